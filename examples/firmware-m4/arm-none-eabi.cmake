# Toolchain file for Cortex-M4F parts with Debian's gcc-arm-none-eabi and picolibc
# (`cmake -DCMAKE_TOOLCHAIN_FILE=arm-none-eabi.cmake`). The flags are those of edgesplit's
# cortex-m4 target (targets/cortex-m4.json), so the library matches what the report measured.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
# No operating system to link a test program for: try_compile builds a static library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(CMAKE_C_FLAGS_INIT
  "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 --specs=picolibc.specs -ffunction-sections -fdata-sections")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostartfiles -Wl,--gc-sections")

# Programs (edgesplit itself) run on the host; libraries and headers come from the toolchain;
# packages (find_package(edgesplit)) from wherever CMAKE_PREFIX_PATH points.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

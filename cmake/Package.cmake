# CPack: `cpack --config build/CPackConfig.cmake` makes a Debian package and a .tar.gz of what
# cmake/Install.cmake installs.
set(CPACK_PACKAGE_NAME edgesplit)
set(CPACK_PACKAGE_VENDOR "edgesplit developers")
# The Debian Maintainer field: whoever publishes the package sets it to "Name <email>".
set(EDGESPLIT_PACKAGE_MAINTAINER "edgesplit developers" CACHE STRING
  "Maintainer of the .deb, as \"Name <email>\"")
set(CPACK_PACKAGE_CONTACT "${EDGESPLIT_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "compiles ONNX models into self-contained C99 for a fleet of microcontrollers")
set(CPACK_PACKAGE_DESCRIPTION
  "edgesplit compiles a trained ONNX model and a description of a fleet of microcontrollers\n\
into self-contained C99 for each device, with int8 quantisation, a static memory plan,\n\
framed messages between devices and a report of RAM, flash, latency and energy. A CMake\n\
package (find_package(edgesplit)) regenerates firmware sources from the model at build time.")
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR DEB TGZ)
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_FILE_NAME "${CPACK_PACKAGE_NAME}-${PROJECT_VERSION}-${CMAKE_SYSTEM_NAME}-${CMAKE_SYSTEM_PROCESSOR}")

set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_SOURCE_DIR}/cmake/CPackOptions.cmake)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_LICENSE Apache-2.0)
# Depends: dpkg-shlibdeps reads the shared libraries the binary links (onnx, protobuf, fmt,
# libzip, the C++ runtime) and names the Debian packages and versions that provide them.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# What building the generated code needs: a host C compiler (`edgesplit run`) and CMake for the
# module; the Arm toolchain and picolibc for Cortex-M targets. QEMU and Graphviz are for
# `run --qemu` and the partition picture, the RISC-V toolchain for the riscv32 target.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS
  "gcc | c-compiler, cmake (>= 3.20), gcc-arm-none-eabi, libnewlib-arm-none-eabi, picolibc-arm-none-eabi")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS
  "ninja-build, qemu-system-arm, graphviz, gcc-riscv64-unknown-elf, picolibc-riscv64-unknown-elf, qemu-system-misc")
include(CPack)

# `cmake --install build --prefix P`: the edgesplit command, its documentation, the runtime
# sources and board support that firmware builds compile, and the CMake package
# (find_package(edgesplit), docs/cmake.md). Everything below P is relocatable: the package
# config finds its files relative to itself, so the same tree works from a .deb (/usr), a
# .tar.gz unpacked anywhere or a private prefix.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(EDGESPLIT_INSTALL_DATADIR ${CMAKE_INSTALL_DATADIR}/edgesplit)
set(EDGESPLIT_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/edgesplit)

install(TARGETS edgesplit RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(FILES README.md LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
  FILES_MATCHING PATTERN "*.md" PATTERN "*.json" PATTERN "*.png")
# The firmware example with the model it builds, so that it works from the installed copy.
install(DIRECTORY examples/firmware-m4 examples/two_imu DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# The binary embeds the runtime and the targets; these copies are for builds outside it: the
# CMake module compiles the runtime once per firmware project (one copy of each kernel however
# many models link it), and firmware for the QEMU boards uses their start-up code and UART.
install(DIRECTORY runtime-c/include runtime-c/src DESTINATION ${EDGESPLIT_INSTALL_DATADIR}/runtime-c)
install(DIRECTORY targets/boards DESTINATION ${EDGESPLIT_INSTALL_DATADIR})
install(DIRECTORY targets/ DESTINATION ${EDGESPLIT_INSTALL_DATADIR}/targets
  FILES_MATCHING PATTERN "*.json")

# The runtime's source list, fixed when edgesplit is built: the module names its library's
# sources at configure time without globbing the installed tree.
file(GLOB EDGESPLIT_RUNTIME_MANIFEST RELATIVE ${CMAKE_SOURCE_DIR}/runtime-c
  CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/runtime-c/src/*.c)
list(SORT EDGESPLIT_RUNTIME_MANIFEST)
list(JOIN EDGESPLIT_RUNTIME_MANIFEST "\n  " EDGESPLIT_RUNTIME_MANIFEST_TEXT)
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/package/edgesplitRuntimeSources.cmake CONTENT
  "# Generated when edgesplit was built: the runtime-c sources, relative to EDGESPLIT_RUNTIME_DIR.\nset(EDGESPLIT_RUNTIME_SOURCE_FILES\n  @EDGESPLIT_RUNTIME_MANIFEST_TEXT@)\n"
  @ONLY)

configure_package_config_file(cmake/edgesplitConfig.cmake.in
  ${CMAKE_BINARY_DIR}/package/edgesplitConfig.cmake
  INSTALL_DESTINATION ${EDGESPLIT_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_BINDIR EDGESPLIT_INSTALL_DATADIR)
# Firmware projects cross-compile (32-bit) against a 64-bit host tool: no pointer-size check.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/package/edgesplitConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  ${CMAKE_BINARY_DIR}/package/edgesplitConfig.cmake
  ${CMAKE_BINARY_DIR}/package/edgesplitConfigVersion.cmake
  ${CMAKE_BINARY_DIR}/package/edgesplitRuntimeSources.cmake
  cmake/edgesplitFunctions.cmake
  DESTINATION ${EDGESPLIT_INSTALL_CMAKEDIR})

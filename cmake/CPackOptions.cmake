# Read by cpack once per generator (CPACK_PROJECT_CONFIG_FILE): the .deb installs below /usr,
# the .tar.gz holds the prefix itself (bin/, lib/, share/) to unpack anywhere.
if(CPACK_GENERATOR STREQUAL "DEB")
  set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
else()
  set(CPACK_PACKAGING_INSTALL_PREFIX "")
endif()

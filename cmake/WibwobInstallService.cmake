# Runs at install time (from cmake_install.cmake; see
# cmake/WibwobPackaging.cmake), when the prefix given to `cmake --install` is
# known. Installs:
#   <prefix>/<unitdir>/wibwob-rooms.service   from packaging/wibwob-rooms.service.in
#   <etc>/wibwob-rooms/*.md                   the example rooms, unless the file exists
#   <etc>/default/wibwob-rooms                the service's settings, unless it exists
# <etc> is /etc for the prefixes /usr and / (as GNUInstallDirs does), else
# <prefix>/etc. DESTDIR is honoured (file(INSTALL) prepends it), which is how
# CPack stages the Debian package.
#
# Inputs (set by the install(CODE) that includes this file): WIBWOB_SOURCE_DIR,
# WIBWOB_BINARY_DIR, WIBWOB_BINDIR, WIBWOB_SYSTEMD_UNITDIR, WIBWOB_EXAMPLE_ROOMS.

string(REGEX REPLACE "/+$" "" prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "" OR prefix STREQUAL "/usr")
  set(etc /etc)
else()
  set(etc ${prefix}/etc)
endif()

set(WIBWOB_UNIT_BINDIR ${prefix}/${WIBWOB_BINDIR})
set(WIBWOB_UNIT_ROOMSDIR ${etc}/wibwob-rooms)
set(WIBWOB_UNIT_DEFAULTS ${etc}/default/wibwob-rooms)
set(generated ${WIBWOB_BINARY_DIR}/packaging/install)
configure_file(${WIBWOB_SOURCE_DIR}/packaging/wibwob-rooms.service.in
               ${generated}/wibwob-rooms.service @ONLY)
file(INSTALL ${generated}/wibwob-rooms.service
     DESTINATION ${prefix}/${WIBWOB_SYSTEMD_UNITDIR}
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# Configuration: an admin's edited file is never replaced.
function(wibwob_install_config source dest_dir)
  get_filename_component(name ${source} NAME)
  if(EXISTS "$ENV{DESTDIR}${dest_dir}/${name}")
    message(STATUS "Keeping existing configuration: $ENV{DESTDIR}${dest_dir}/${name}")
  else()
    file(INSTALL ${source} DESTINATION ${dest_dir}
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
endfunction()

foreach(room IN LISTS WIBWOB_EXAMPLE_ROOMS)
  wibwob_install_config(${room} ${WIBWOB_UNIT_ROOMSDIR})
endforeach()
wibwob_install_config(${WIBWOB_SOURCE_DIR}/packaging/default/wibwob-rooms ${etc}/default)

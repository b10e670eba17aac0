# Shipping: man pages, install rules and the Debian package (CPack), in one
# place. Included by the top-level CMakeLists.txt after every part, so the
# program targets exist. The files it installs besides the programs live in
# packaging/ (unit template, maintainer scripts, man-page additions) and
# examples/rooms/; packaging/README.md describes them.
#
#   cmake --install build --prefix P     installs everything under P (see below)
#   cpack --config build/CPackConfig.cmake -G DEB -B build/package
#                                        builds wibwob-sync_<version>-1_<arch>.deb
#
# Layout under the prefix P (GNUInstallDirs):
#   P/bin/                         the five programs
#   P/lib/wibwob-sync/             wibwob-bridge-tls.so, the bridge's TLS module
#                                  (bridge/io/tls_module.hpp; found from bin/)
#   P/share/man/man1/              <program>.1.gz, generated from --help (help2man)
#   P/share/doc/wibwob-sync/       README.md, docs/*.md, examples/rooms/*.md
#   P/lib/systemd/system/          wibwob-rooms.service (paths filled in at install time)
#   <etc>/wibwob-rooms/*.md        the rooms the service runs (the example rooms),
#   <etc>/default/wibwob-rooms     the service's settings
# where <etc> is /etc for the prefixes /usr and /, else P/etc. Files under
# <etc> are configuration: an install never overwrites an existing one.

include(GNUInstallDirs)

set(WIBWOB_PACKAGE_NAME wibwob-sync)
set(WIBWOB_PACKAGE_CONTACT "WibWob-DOS multiplayer sync maintainers" CACHE STRING
    "Maintainer field of the Debian package")
set(WIBWOB_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "Where the systemd unit goes, relative to the install prefix")
option(WIBWOB_MAN_PAGES "Generate man pages from --help with help2man (Debian package help2man)" ON)

# The shipped programs: each gets the version header (--version), a man page
# and an install rule. fakewibwob and mockparty are installed as test fixtures
# for other projects; their man pages say so (packaging/man/*.h2m).
set(WIBWOB_PROGRAMS wibwob-bridge fakewibwob mockparty wibwob-sim wibwob-rooms)
set(wibwob_summary_wibwob-bridge "keep a WibWob-DOS instance's windows in sync with a PartyKit room")
set(wibwob_summary_fakewibwob "fake WibWob-DOS IPC server, a test fixture")
set(wibwob_summary_mockparty "mock PartyKit room server, a test fixture")
set(wibwob_summary_wibwob-sim "deterministic simulator of WibWob-DOS multiplayer sessions")
set(wibwob_summary_wibwob-rooms "run a WibWob-DOS app per room file and a sync bridge per multiplayer room")
# Programs with subcommands: their man page also carries each subcommand's --help.
set(wibwob_subcommands_wibwob-rooms check plan start status)

foreach(program IN LISTS WIBWOB_PROGRAMS)
  if(NOT TARGET ${program})
    message(FATAL_ERROR "cmake/WibwobPackaging.cmake: program target ${program} does not exist")
  endif()
  target_link_libraries(${program} PRIVATE wibwob_version)
  install(TARGETS ${program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endforeach()
# The bridge finds its TLS module at ../lib/wibwob-sync/ from its own
# directory (bridge/CMakeLists.txt), as in the build tree.
if(NOT CMAKE_INSTALL_BINDIR STREQUAL "bin")
  message(FATAL_ERROR "CMAKE_INSTALL_BINDIR must be 'bin': wibwob-bridge finds its TLS module at ../${WIBWOB_TLS_MODULE_DIR}")
endif()
install(TARGETS wibwob-bridge-tls LIBRARY DESTINATION ${WIBWOB_TLS_MODULE_DIR})

# --- man pages ---------------------------------------------------------------
# Generated after each program is linked, by running its --help (and each
# subcommand's --help) through help2man, so a man page never drifts from the
# flags. packaging/man/<program>.h2m adds what --help cannot say (environment,
# files, see also). The version comes from project(VERSION), the same string
# as --version prints.
if(WIBWOB_MAN_PAGES)
  find_program(WIBWOB_HELP2MAN help2man)
  find_program(WIBWOB_GZIP gzip)
  if(NOT WIBWOB_HELP2MAN)
    message(FATAL_ERROR
      "help2man not found: it generates the man pages. Install the Debian package: apt-get install help2man\n"
      "(or run scripts/setup.sh), or configure with -DWIBWOB_MAN_PAGES=OFF to build without man pages")
  endif()
  if(NOT WIBWOB_GZIP)
    message(FATAL_ERROR "gzip not found: it compresses the man pages. Install the Debian package: apt-get install gzip")
  endif()
  set(man_dir ${PROJECT_BINARY_DIR}/man)
  set(man_pages)
  foreach(program IN LISTS WIBWOB_PROGRAMS)
    set(page ${man_dir}/${program}.1.gz)
    set(include ${PROJECT_SOURCE_DIR}/packaging/man/${program}.h2m)
    add_custom_command(
      OUTPUT ${page}
      COMMAND ${CMAKE_COMMAND}
              -DPROGRAM=$<TARGET_FILE:${program}>
              -DNAME=${program}
              "-DSUMMARY=${wibwob_summary_${program}}"
              "-DSUBCOMMANDS=${wibwob_subcommands_${program}}"
              -DVERSION=${PROJECT_VERSION}
              -DINCLUDE=${include}
              -DHELP2MAN=${WIBWOB_HELP2MAN}
              -DGZIP=${WIBWOB_GZIP}
              -DOUTPUT=${page}
              -P ${PROJECT_SOURCE_DIR}/cmake/WibwobManPage.cmake
      DEPENDS ${program} ${include} ${PROJECT_SOURCE_DIR}/cmake/WibwobManPage.cmake
      COMMENT "Generating man page ${program}.1 (help2man)"
      VERBATIM)
    list(APPEND man_pages ${page})
  endforeach()
  add_custom_target(wibwob_man_pages ALL DEPENDS ${man_pages})
  install(FILES ${man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# --- docs and examples -------------------------------------------------------
set(WIBWOB_DOCDIR ${CMAKE_INSTALL_DATAROOTDIR}/doc/${WIBWOB_PACKAGE_NAME})
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${WIBWOB_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${WIBWOB_DOCDIR}/docs FILES_MATCHING PATTERN "*.md")
file(GLOB WIBWOB_EXAMPLE_ROOMS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/examples/rooms/*.md)
install(FILES ${WIBWOB_EXAMPLE_ROOMS} DESTINATION ${WIBWOB_DOCDIR}/examples/rooms)

# --- service and configuration -----------------------------------------------
# The unit names absolute paths (the program, the rooms, the settings), which
# depend on the prefix given to `cmake --install`; so it is written at install
# time, by cmake/WibwobInstallService.cmake.
install(CODE "
  set(WIBWOB_SOURCE_DIR [[${PROJECT_SOURCE_DIR}]])
  set(WIBWOB_BINARY_DIR [[${PROJECT_BINARY_DIR}]])
  set(WIBWOB_BINDIR [[${CMAKE_INSTALL_BINDIR}]])
  set(WIBWOB_SYSTEMD_UNITDIR [[${WIBWOB_SYSTEMD_UNITDIR}]])
  set(WIBWOB_EXAMPLE_ROOMS [[${WIBWOB_EXAMPLE_ROOMS}]])
  include([[${PROJECT_SOURCE_DIR}/cmake/WibwobInstallService.cmake]])
")

if(WIBWOB_BUILD_TESTS)
  # The example rooms the package ships must pass the checker and plan.
  add_test(NAME PackagingExampleRoomsCheck COMMAND wibwob-rooms check ${WIBWOB_EXAMPLE_ROOMS})
  add_test(NAME PackagingExampleRoomsPlan COMMAND wibwob-rooms plan ${PROJECT_SOURCE_DIR}/examples/rooms)
  set_tests_properties(PackagingExampleRoomsPlan PROPERTIES
    PASS_REGULAR_EXPRESSION "wibwob-shared")
endif()

# --- Debian package (CPack) --------------------------------------------------
# Dependencies are computed from the binaries by dpkg-shlibdeps (dpkg-dev);
# passwd is for useradd/userdel in the maintainer scripts.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ${WIBWOB_PACKAGE_NAME})
set(CPACK_PACKAGE_VENDOR "WibWob-DOS")
set(CPACK_PACKAGE_CONTACT "${WIBWOB_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "WibWob-DOS multiplayer sync bridge, room orchestrator and test fixtures")
# The long description; CPack puts the summary line above it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "wibwob-bridge keeps the window layouts of several WibWob-DOS instances
identical through a PartyKit room server. wibwob-rooms starts one app per
room file and a bridge per multiplayer room, and runs as the systemd service
wibwob-rooms.service. fakewibwob and mockparty are faithful fakes of the app
and of the room server, for tests; wibwob-sim is a deterministic simulator.")
# Install into the package with prefix /usr and DESTDIR, so that the install
# script sees the real prefix and puts the configuration under /etc.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "man-db")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# conffiles: everything the package puts under /etc.
set(conffiles "/etc/default/wibwob-rooms\n")
foreach(room IN LISTS WIBWOB_EXAMPLE_ROOMS)
  get_filename_component(name ${room} NAME)
  string(APPEND conffiles "/etc/wibwob-rooms/${name}\n")
endforeach()
file(WRITE ${PROJECT_BINARY_DIR}/packaging/deb/conffiles "${conffiles}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_BINARY_DIR}/packaging/deb/conffiles
  ${PROJECT_SOURCE_DIR}/packaging/deb/postinst
  ${PROJECT_SOURCE_DIR}/packaging/deb/prerm
  ${PROJECT_SOURCE_DIR}/packaging/deb/postrm)
include(CPack)

# The project version (project(VERSION ...) in the top CMakeLists.txt) as a
# generated header, <build>/generated/wibwob/version.hpp, behind the interface
# target wibwob_version:
#
#   #include "wibwob/version.hpp"
#   cli.set_version_flag("--version", std::string("wibwob-rooms ") + wibwob::version);
#
# cmake/WibwobPackaging.cmake links it to every shipped program.
configure_file(${CMAKE_CURRENT_LIST_DIR}/version.hpp.in
               ${PROJECT_BINARY_DIR}/generated/wibwob/version.hpp @ONLY)
add_library(wibwob_version INTERFACE)
target_include_directories(wibwob_version INTERFACE ${PROJECT_BINARY_DIR}/generated)

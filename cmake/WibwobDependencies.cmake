# Every dependency comes from a Debian 12 package through find_package.
# A missing one stops configuration with the package that provides it.
# scripts/setup.sh installs exactly these packages.

macro(wibwob_require pkg debian)
  find_package(${pkg} ${ARGN} QUIET)
  if(NOT ${pkg}_FOUND)
    message(FATAL_ERROR
      "Missing dependency ${pkg}. Install the Debian package: apt-get install ${debian}\n"
      "(or run scripts/setup.sh, which installs everything this project needs)")
  endif()
endmacro()

wibwob_require(Boost "libboost1.81-dev libboost-url1.81-dev libboost-system1.81-dev" 1.81 CONFIG COMPONENTS url system)
wibwob_require(OpenSSL libssl-dev)
wibwob_require(nlohmann_json nlohmann-json3-dev 3.11)
wibwob_require(yaml-cpp libyaml-cpp-dev)
wibwob_require(CLI11 libcli11-dev)
wibwob_require(spdlog libspdlog-dev)
# Nettle (HMAC-SHA256 for the IPC's auth, protocol/ipc.cpp) ships no CMake
# config: found through pkg-config (find_package(PkgConfig)).
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(NETTLE QUIET IMPORTED_TARGET nettle)
endif()
if(NOT TARGET PkgConfig::NETTLE)
  message(FATAL_ERROR "Missing dependency nettle. Install the Debian packages: apt-get install nettle-dev pkg-config\n"
                      "(or run scripts/setup.sh, which installs everything this project needs)")
endif()
find_package(Threads REQUIRED)
if(WIBWOB_BUILD_TESTS)
  wibwob_require(GTest libgtest-dev)
  wibwob_require(rapidcheck librapidcheck-dev)
endif()

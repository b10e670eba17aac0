# Precompiled headers for the heavy third-party headers (docs/build.md).
#
# Each set is compiled once, by a small OBJECT library that owns it, and the
# targets of that set reuse it (REUSE_FROM). A reused header is only valid
# when the compile flags match, so each owner links what its consumers link
# (the same interface definitions) and gets the project's warning flags; GCC
# checks the rest (-Winvalid-pch, an error under WIBWOB_WERROR).
#
#   json   nlohmann/json + the standard library: the pure cores
#   io     json + spdlog + the Asio core: the I/O shells (they link wibwob_net)
#   test   json + GoogleTest + rapidcheck: every test binary (tests/)
#
# WIBWOB_PCH=OFF builds without them (the same code; only slower).
option(WIBWOB_PCH "Precompile the heavy third-party headers (docs/build.md)" ON)

set(_wibwob_pch_std <algorithm> <chrono> <cstdint> <functional> <map> <memory> <optional> <set> <string>
                    <string_view> <utility> <variant> <vector>)
set(_wibwob_pch_dir ${CMAKE_CURRENT_LIST_DIR})

# wibwob_pch_owner(<set> LIBS <lib>... HEADERS <header>...)
function(wibwob_pch_owner set)
  cmake_parse_arguments(ARG "" "" "LIBS;HEADERS" ${ARGN})
  if(NOT WIBWOB_PCH)
    return()
  endif()
  add_library(wibwob_pch_${set} OBJECT ${_wibwob_pch_dir}/pch_stub.cpp)
  target_link_libraries(wibwob_pch_${set} PRIVATE ${ARG_LIBS})
  target_precompile_headers(wibwob_pch_${set} PRIVATE ${_wibwob_pch_std} ${ARG_HEADERS})
  wibwob_target_warnings(wibwob_pch_${set})
endfunction()

# wibwob_use_pch(<set> <target>...): targets that do not exist are skipped,
# so a part that is not built yet does not stop the configure.
function(wibwob_use_pch set)
  if(NOT WIBWOB_PCH)
    return()
  endif()
  foreach(t IN LISTS ARGN)
    if(TARGET ${t})
      target_precompile_headers(${t} REUSE_FROM wibwob_pch_${set})
    endif()
  endforeach()
endfunction()

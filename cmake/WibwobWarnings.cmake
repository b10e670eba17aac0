# wibwob_target_warnings(<target>): the project's warning set on one target.
function(wibwob_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wconversion -Wimplicit-fallthrough)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 false positives at -O2: -Wrestrict on string concatenation
    # (GCC bug 105329), and -Wmismatched-new-delete inside Boost.Asio's
    # recycling allocator once it is inlined, and -Wmaybe-uninitialized when a
    # std::variant of structs is moved out of a std::optional inside a
    # coroutine frame (GCC bug 107138). (-Wnull-dereference is left out: it
    # fires inside Boost.Asio's executors at -O2.)
    target_compile_options(${target} PRIVATE -Wno-restrict -Wno-mismatched-new-delete -Wno-maybe-uninitialized)
  endif()
  if(WIBWOB_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

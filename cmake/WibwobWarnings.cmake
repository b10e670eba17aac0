# wibwob_target_warnings(<target>): the project's warning set on one target.
function(wibwob_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wconversion -Wnull-dereference -Wimplicit-fallthrough)
  if(WIBWOB_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

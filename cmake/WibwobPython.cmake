# wibwob_find_python(<var> <imports>): the first of Debian's /usr/bin/python3
# and the python3 on PATH that can `import <imports>` (e.g. "pytest, websocket"),
# in <var>; empty when none can. Another python3 earlier on PATH (e.g. pyenv)
# may lack Debian's packages, so both are tried.
function(wibwob_find_python var imports)
  set(found "")
  foreach(candidate /usr/bin/python3 python3)
    find_program(_wibwob_py NAMES ${candidate} NO_CACHE)
    if(_wibwob_py)
      execute_process(COMMAND ${_wibwob_py} -c "import ${imports}" RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
      if(rc EQUAL 0)
        set(found ${_wibwob_py})
        break()
      endif()
    endif()
    unset(_wibwob_py)
  endforeach()
  set(${var} "${found}" PARENT_SCOPE)
endfunction()

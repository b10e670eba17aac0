# Script mode (cmake -P), run by the build after a program is linked (see
# cmake/WibwobPackaging.cmake): writes OUTPUT, the gzip'd man page of PROGRAM,
# from its --help through help2man.
#
#   PROGRAM      the built program
#   NAME         its name (the page is NAME(1))
#   SUMMARY      the one-line NAME section
#   SUBCOMMANDS  subcommands whose --help goes into a SUBCOMMANDS section
#   VERSION      the project version (what --version prints after NAME)
#   INCLUDE      packaging/man/NAME.h2m: text help2man adds (optional file)
#   HELP2MAN, GZIP  the tools
#   OUTPUT       NAME.1.gz
foreach(var PROGRAM NAME SUMMARY VERSION INCLUDE HELP2MAN GZIP OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "WibwobManPage.cmake: -D${var}=... is required")
  endif()
endforeach()

get_filename_component(out_dir ${OUTPUT} DIRECTORY)
set(work ${out_dir}/${NAME}.work)
file(MAKE_DIRECTORY ${work})

# Run the program by its name, found through PATH, so that its usage lines
# say `wibwob-rooms`, not the build directory's path.
get_filename_component(program_dir ${PROGRAM} DIRECTORY)
set(ENV{PATH} "${program_dir}:$ENV{PATH}")

# Everything help2man adds besides --help: the static text, then each
# subcommand's own --help as preformatted text.
set(h2m "")
if(EXISTS ${INCLUDE})
  file(READ ${INCLUDE} h2m)
endif()
if(SUBCOMMANDS)
  string(APPEND h2m "\n[SUBCOMMANDS IN DETAIL]\n")
  foreach(sub IN LISTS SUBCOMMANDS)
    execute_process(COMMAND ${NAME} ${sub} --help
                    OUTPUT_VARIABLE help RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${NAME} ${sub} --help failed (${rc}): ${err}")
    endif()
    # roff: a leading dot or quote would be a request; backslashes escape.
    string(REPLACE "\\" "\\e" help "${help}")
    string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" help "${help}")
    string(APPEND h2m ".SS \"${NAME} ${sub}\"\n.nf\n${help}.fi\n")
  endforeach()
endif()
set(include_args)
if(NOT h2m STREQUAL "")
  file(WRITE ${work}/include.h2m "${h2m}")
  set(include_args --include=${work}/include.h2m)
endif()

# --version-string: the man page's version is the project's, the same string
# the program's --version prints (help2man then does not run --version).
execute_process(
  COMMAND ${HELP2MAN} --no-info --section=1 --version-string=${VERSION}
          --name=${SUMMARY} ${include_args}
          --output=${work}/${NAME}.1 ${NAME}
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "help2man failed for ${NAME} (${rc}): ${err}")
endif()
# Debian compresses man pages; -n keeps the gzip header free of a timestamp.
execute_process(COMMAND ${GZIP} -9 -n -c ${work}/${NAME}.1
                OUTPUT_FILE ${OUTPUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${OUTPUT})
  message(FATAL_ERROR "gzip failed for ${NAME}.1 (${rc})")
endif()

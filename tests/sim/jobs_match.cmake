# wibwob-sim --jobs: the same seeds on one thread and on several print the
# same lines (each seed's result and trace hash, in seed order), write the
# same timelines and exit the same way. A settle limit of 500 ms makes some
# of the seeds fail whatever the engine does, so failures' reports and
# timelines are ordered too. Only the summary's clocks (wall, rate, CPU,
# jobs) may differ.
# Usage: cmake -DSIM=<wibwob-sim> -DDIR=<scratch dir> -P jobs_match.cmake
set(args --seed 1 --seeds 12 --active-ms 4000 --settle-limit-ms 500)
foreach(jobs 1 2 0)
  file(REMOVE_RECURSE "${DIR}/jobs-${jobs}")
  file(MAKE_DIRECTORY "${DIR}/jobs-${jobs}")
  execute_process(COMMAND "${SIM}" ${args} --jobs ${jobs} --timeline-dir "${DIR}/jobs-${jobs}"
                  OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  string(REGEX REPLACE " in [0-9.e-]+ s, rate [0-9]+x \\([^\n]*\\)" "" out "${out}")
  string(REPLACE "${DIR}/jobs-${jobs}" "DIR" out "${out}")
  set(out_${jobs} "${out}")
  set(rc_${jobs} "${rc}")
  set(timelines_${jobs} "")
  file(GLOB files RELATIVE "${DIR}/jobs-${jobs}" "${DIR}/jobs-${jobs}/*.timeline.txt")
  list(SORT files)
  foreach(f IN LISTS files)
    file(READ "${DIR}/jobs-${jobs}/${f}" text)
    string(APPEND timelines_${jobs} "== ${f}\n${text}")
  endforeach()
endforeach()
string(REPLACE ";" "," flat "${out_1}")  # a ';' would split the lists below
string(REGEX MATCHALL ": converged in [0-9]+ ms [^\n]*\\(trace [0-9a-f]+\\)\n" converged "${flat}")
string(REGEX MATCHALL "seed [0-9]+: FAILED: [^\n]*\n  timeline: DIR/wibwob-sim-seed-[0-9]+\\.timeline\\.txt\n" failed "${flat}")
list(LENGTH converged n_ok)
list(LENGTH failed n_failed)
if(n_ok EQUAL 0 OR n_failed EQUAL 0 OR NOT rc_1 EQUAL 1 OR timelines_1 STREQUAL "")
  message(FATAL_ERROR "expected converged seeds with trace hashes and failed seeds with timelines (exit 1); got "
                      "${n_ok} converged, ${n_failed} failed, exit ${rc_1}:\n${out_1}")
endif()
foreach(jobs 2 0)
  if(NOT out_${jobs} STREQUAL out_1 OR NOT rc_${jobs} EQUAL rc_1 OR NOT timelines_${jobs} STREQUAL timelines_1)
    message(FATAL_ERROR "--jobs ${jobs} differs from --jobs 1 (exit ${rc_${jobs}} vs ${rc_1}):\n"
                        "--- jobs 1:\n${out_1}\n--- jobs ${jobs}:\n${out_${jobs}}")
  endif()
endforeach()
message(STATUS "--jobs 1, 2 and 0: the same ${n_ok} converged seeds with their trace hashes, ${n_failed} failures and timelines")

# wibwob-sim --jobs: the same seeds on one thread and on several print the
# same lines (each seed's result and trace hash, in seed order) and exit the
# same way. Seeds 121-130 with id reuse on include a failing seed (128), so a
# failure's report and timeline are ordered too. Only the summary's clocks
# (wall, rate, CPU, jobs) may differ.
# Usage: cmake -DSIM=<wibwob-sim> -DDIR=<scratch dir> -P jobs_match.cmake
foreach(jobs 1 2 0)
  file(MAKE_DIRECTORY "${DIR}/jobs-${jobs}")
  execute_process(COMMAND "${SIM}" --seed 121 --seeds 10 --jobs ${jobs} --timeline-dir "${DIR}/jobs-${jobs}"
                  OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  string(REGEX REPLACE " in [0-9.e-]+ s, rate [0-9]+x \\([^\n]*\\)" "" out "${out}")
  string(REPLACE "${DIR}/jobs-${jobs}" "DIR" out "${out}")
  set(out_${jobs} "${out}")
  set(rc_${jobs} "${rc}")
  file(READ "${DIR}/jobs-${jobs}/wibwob-sim-seed-128.timeline.txt" timeline_${jobs})
endforeach()
string(REPLACE ";" "," flat "${out_1}")  # a ';' would split the list below
string(REGEX MATCHALL ": converged in [0-9]+ ms [^\n]*\\(trace [0-9a-f]+\\)\n" converged "${flat}")
list(LENGTH converged n)
if(NOT n EQUAL 9 OR NOT out_1 MATCHES "seed 128: FAILED" OR NOT rc_1 EQUAL 1)
  message(FATAL_ERROR "expected 9 converged seeds with trace hashes and seed 128 failing (exit 1), got ${n}, "
                      "exit ${rc_1}:\n${out_1}")
endif()
foreach(jobs 2 0)
  if(NOT out_${jobs} STREQUAL out_1 OR NOT rc_${jobs} EQUAL rc_1 OR NOT timeline_${jobs} STREQUAL timeline_1)
    message(FATAL_ERROR "--jobs ${jobs} differs from --jobs 1 (exit ${rc_${jobs}} vs ${rc_1}):\n"
                        "--- jobs 1:\n${out_1}\n--- jobs ${jobs}:\n${out_${jobs}}")
  endif()
endforeach()
message(STATUS "--jobs 1, 2 and 0: the same ${n} converged seeds, trace hashes and failure")

#!/usr/bin/env bash
# Build time of a fresh clone, as scripts/test.sh builds it (docs/build.md):
# configure, build and ctest in a fresh build directory with ccache off,
# each with wall and CPU (user+sys) time, and the CPU time of every compile
# and link, most expensive first.
#
#   bench/build_time.sh [BUILD_DIR] [-- extra cmake arguments]
#
# BUILD_DIR (default: build-time) is deleted first. Jobs: nproc, as
# scripts/test.sh. Needs GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail

# As the compiler launcher: time one compile or link into $WIBWOB_TIME_LOG.
if [[ ${1:-} == --launch ]]; then
  shift
  out=""
  prev=""
  for a in "$@"; do
    [[ $prev == -o ]] && out=$a
    prev=$a
  done
  exec /usr/bin/time -f "%e %U %S $out" -a -o "$WIBWOB_TIME_LOG" "$@"
fi

cd "$(dirname "$0")/.."
dir=${1:-build-time}
shift || true
[[ ${1:-} == -- ]] && shift
[[ -x /usr/bin/time ]] || { echo "build_time.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

rm -rf "$dir"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
export CCACHE_DISABLE=1
export WIBWOB_TIME_LOG=$dir/compile-times.log
launcher=$PWD/bench/build_time.sh
jobs=$(nproc)
report=$dir/build-time.txt
: >"$report"

phase() {
  local name=$1
  shift
  /usr/bin/time -f "$name: wall %e s, CPU %U s user + %S s sys" -a -o "$report" "$@"
}
# The launcher gets --launch first: CMake's launcher list is "script;--launch".
phase configure cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DWIBWOB_WERROR=ON \
  "-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher;--launch" "-DCMAKE_CXX_LINKER_LAUNCHER=$launcher;--launch" "$@" \
  >"$dir/configure.log"
phase build cmake --build "$dir" -j"$jobs" >"$dir/build.log"
phase ctest ctest --test-dir "$dir" -j"$jobs" --output-on-failure >"$dir/ctest.log" || true
grep -E "tests passed|tests failed" "$dir/ctest.log" >>"$report" || true
awk '{cpu += $2 + $3; n++} END {printf "compiles and links: %d, CPU %.0f s\n", n, cpu}' "$WIBWOB_TIME_LOG" >>"$report"
echo "most expensive (CPU s, output):" >>"$report"
awk '{printf "  %7.1f  %s\n", $2 + $3, $4}' "$WIBWOB_TIME_LOG" | sort -rn | head -15 >>"$report"
echo "slowest tests (s):" >>"$report"
grep -E "Test +#" "$dir/ctest.log" | sed -E 's/.*Test +#[0-9]+: ([^ ]+) .* ([0-9.]+) sec$/  \2  \1/' | sort -rn | head -5 >>"$report"
cat "$report"

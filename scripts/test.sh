#!/usr/bin/env bash
# Runs every test: installs what is missing (scripts/setup.sh), configures,
# builds and runs the whole suite with ctest (GoogleTest, rapidcheck and the
# pytest acceptance suite).
#
#   scripts/test.sh              Release build in build/
#   scripts/test.sh --sanitize   AddressSanitizer + UBSan build in build-asan/
#
# Extra arguments after `--` go to ctest (e.g. -- -R Window).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=release
ctest_args=()
while (( $# )); do
  case "$1" in
    --sanitize) mode=sanitize ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

scripts/setup.sh

jobs=$(nproc)
if [[ $mode == sanitize ]]; then
  dir=build-asan
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DWIBWOB_SANITIZE=address,undefined \
        -DWIBWOB_BUILD_BENCH=OFF -DWIBWOB_WERROR=ON
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  dir=build
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DWIBWOB_WERROR=ON
fi
cmake --build "$dir" -j"$jobs"
ctest --test-dir "$dir" --output-on-failure -j"$jobs" "${ctest_args[@]}"

#!/usr/bin/env bash
# Builds every libFuzzer target in fuzz/ with clang (into build-fuzz/) and runs
# each for a fixed time over its seed corpus. Exit status: 0 when no target
# found a crash, 1 when one did (its crash-* input is in build-fuzz/artifacts/),
# 2 on a usage error. CI calls it with a short time.
#
#   scripts/fuzz.sh                  every target, 30 s each
#   scripts/fuzz.sh -t 10            10 s each
#   scripts/fuzz.sh fuzz_fake_app    only the named targets
#
# Each target reads fuzz/corpus/<target>/ (committed seeds, never written) and
# keeps what it finds in build-fuzz/corpus/<target>/ across runs. A crash is
# reproduced with: build-fuzz/bin/<target> build-fuzz/artifacts/<target>/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=30
targets=()
while (( $# )); do
  case "$1" in
    -t|--time) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] || { echo "fuzz.sh: -t needs a positive number of seconds" >&2; exit 2; }
               seconds=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done

# Every fuzz/fuzz_*.cpp is a target (fuzz/CMakeLists.txt must list it).
if (( ${#targets[@]} == 0 )); then
  for src in fuzz/fuzz_*.cpp; do targets+=("$(basename "$src" .cpp)"); done
fi
for t in "${targets[@]}"; do
  [[ -f "fuzz/$t.cpp" ]] || { echo "fuzz.sh: no target $t (no fuzz/$t.cpp)" >&2; exit 2; }
done

scripts/setup.sh --fuzz

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B build-fuzz -DWIBWOB_FUZZ=ON -DWIBWOB_BUILD_TESTS=OFF -DWIBWOB_BUILD_BENCH=OFF \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]}"

failed=()
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/artifacts/$t"
  seeds=()
  [[ -d "fuzz/corpus/$t" ]] && seeds=("fuzz/corpus/$t")
  echo "fuzz.sh: $t for ${seconds}s"
  # The first directory receives new inputs; the seed directory is only read.
  if ! "build-fuzz/bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="build-fuzz/artifacts/$t/" "build-fuzz/corpus/$t" "${seeds[@]}" \
        >"build-fuzz/artifacts/$t/last-run.log" 2>&1; then
    echo "fuzz.sh: $t FAILED; log: build-fuzz/artifacts/$t/last-run.log" >&2
    tail -n 30 "build-fuzz/artifacts/$t/last-run.log" >&2
    failed+=("$t")
  else
    grep -E '^stat::number_of_executed_units' "build-fuzz/artifacts/$t/last-run.log" | sed "s/^/fuzz.sh: $t /" || true
  fi
done

if (( ${#failed[@]} )); then
  echo "fuzz.sh: crashes in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, ${seconds}s each, no crash"

#!/usr/bin/env bash
# The main job: builds everything, then runs
#   1. a live local multiplayer session on the real binaries (mockparty, three
#      fakewibwob apps, three wibwob-bridge sidecars), step by step, and
#   2. the deterministic simulator over many seeds with faults, and
#   3. the acceptance criteria AC-1..AC-4 on the simulator's virtual time,
# printing progress and a summary of each. Exit status 0 only if all pass.
#
#   scripts/run.sh [--seeds N] [--keep] [--no-maps]
#     --keep     keep the live session's logs
#     --no-maps  do not draw the three desktops after each live step
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=50
live_args=()
while (( $# )); do
  case "$1" in
    --seeds) seeds="$2"; shift ;;
    --keep) live_args+=(--keep) ;;
    --no-maps) live_args+=(--no-maps) ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j"$(nproc)" --target fakewibwob mockparty wibwob-bridge wibwob-sim

echo
echo "== live session: 3 apps, 3 bridges, 1 room =="
# Debian's python3 (the acceptance harness's interpreter), whatever else is on PATH.
py=/usr/bin/python3
[[ -x $py ]] || py=python3
live=0
"$py" scripts/live_session.py --bin build/bin "${live_args[@]}" || live=$?

echo
echo "== simulator: $seeds seeds, 3 instances, drops, restarts, outages =="
sim=0
build/bin/wibwob-sim --seeds "$seeds" --instances 3 || sim=$?

echo
echo "== acceptance criteria AC-1..AC-4 on virtual time =="
acc=0
build/bin/wibwob-sim --acceptance --seeds 40 || acc=$?

echo
if (( live == 0 && sim == 0 && acc == 0 )); then
  echo "main job: live session, simulator and acceptance criteria passed"
else
  echo "main job: FAILED (live session exit $live, simulator exit $sim, acceptance exit $acc)"
  exit 1
fi

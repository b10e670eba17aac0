#!/usr/bin/env python3
"""How fast wibwob-sim runs (issue "Footprint and speed", simulator speed).

Runs `wibwob-sim --seeds 50` at default settings (3 instances, 4 actions/s,
20 s of virtual active phase per seed), with and without the apps' id reuse,
`--repeat` times each, and reports per mode the median and best of:
  - wall time of the whole process, and its CPU time (user + sys, from
    wait4), so that a busy machine shows in the gap between the two;
  - the rate: virtual time covered (each seed's active phase plus its settle
    time, from the per-seed JSON lines) per wall second and per CPU second.
Then one run of `--seeds 200 --jobs 0` (every core) for the multi-core rate.

With `--before BIN` a second binary (e.g. one built from an older commit)
runs the same commands, interleaved with this one (A, B, A, B, ...) so that
both see the same load; it must accept the same switches except --jobs.

Usage: bench/sim_speed.py [--bin build/bin/wibwob-sim] [--before OLD_BIN]
                          [--repeat 5] [--seeds 50]
Prints a Markdown table; docs/simulator.md ("Speed") has the results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

ACTIVE_S = 20.0  # the default --active-ms, in seconds


def run(binary: str, args: list[str]) -> dict:
    """One run: wall and CPU seconds of the process, virtual seconds covered."""
    start = time.monotonic()
    proc = subprocess.Popen([binary, *args, "--log-format", "json"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    seeds = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    converged = [s for s in seeds if s.get("msg") == "seed converged"]
    failed = [s for s in seeds if s.get("msg") == "seed failed"]
    # A failed seed's settle time is not printed: count its active phase only.
    virtual = ACTIVE_S * (len(converged) + len(failed)) + sum(int(s["settled_ms"]) for s in converged) / 1000.0
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "virtual": virtual,
            "seeds": len(converged) + len(failed), "failed": len(failed)}


def summarise(runs: list[dict]) -> dict:
    wall = [r["wall"] for r in runs]
    cpu = [r["cpu"] for r in runs]
    virtual = runs[0]["virtual"]
    return {"wall_med": statistics.median(wall), "wall_min": min(wall), "cpu_med": statistics.median(cpu),
            "cpu_min": min(cpu), "virtual": virtual, "rate_wall": virtual / statistics.median(wall),
            "rate_cpu": virtual / statistics.median(cpu), "seeds": runs[0]["seeds"], "failed": runs[0]["failed"]}


def row(name: str, s: dict) -> str:
    return (f"| {name} | {s['seeds']} ({s['failed']} failed) | {s['virtual']:.0f} s | {s['wall_med']:.3f} s "
            f"(best {s['wall_min']:.3f}) | {s['cpu_med']:.3f} s (best {s['cpu_min']:.3f}) | "
            f"{s['rate_wall']:.0f}x | {s['rate_cpu']:.0f}x |")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(Path(__file__).resolve().parent.parent / "build/bin/wibwob-sim"))
    ap.add_argument("--before", help="an older wibwob-sim to compare with, run interleaved")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=50)
    a = ap.parse_args()

    binaries = {"after": a.bin}
    if a.before:
        binaries = {"before": a.before, **binaries}
    modes = {"no id reuse": ["--no-id-reuse"], "id reuse": []}
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores; load average at start {load()}")
    results: dict[tuple[str, str], list[dict]] = {}
    for _ in range(a.repeat):
        for mode, extra in modes.items():
            for name, binary in binaries.items():
                r = run(binary, ["--seeds", str(a.seeds), *extra])
                results.setdefault((name, mode), []).append(r)
    print()
    print(f"`wibwob-sim --seeds {a.seeds} [--no-id-reuse] --log-format json`, {a.repeat} runs each, medians:")
    print()
    print("| binary, mode | seeds | virtual time | wall | CPU (user+sys) | rate (wall) | rate (CPU) |")
    print("|---|---|---|---|---|---|---|")
    for (name, mode), runs in results.items():
        print(row(f"{name}, {mode}", summarise(runs)))
    many = summarise([run(a.bin, ["--seeds", str(4 * a.seeds), "--no-id-reuse", "--jobs", "0"])])
    print(row(f"after, --seeds {4 * a.seeds} --jobs 0 (no id reuse)", many))
    print()
    print(f"load average at the end {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

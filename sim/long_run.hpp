// What wibwob-sim shows over a long run (docs/simulator.md, "Long runs"):
// the progress line on a terminal, the histogram of settle times and its
// summary, and the timeline of a failing seed. Text only; the caller decides
// where it goes (main.cpp: the terminal, stdout, a file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "protocol/result.hpp"
#include "sim/simulator.hpp"

namespace wibwob::sim {

// Where a run stands: seeds done of total, failures, and the clocks.
struct RunProgress {
  std::uint64_t done = 0, total = 0, failed = 0;
  double wall_s = 0;               // since the first seed started
  std::int64_t virtual_ms = 0;     // simulated time of the seeds done
};

// "seeds 37/200 (1 failed), 12.3 seeds/s, 245x real time, ETA 13s"
// (the rate and ETA read "-" until a seed is done).
std::string progress_line(const RunProgress& p);

// A text histogram of settle times (ms), one bar per bucket; buckets of a
// round width (100, 200, 250, 500 ms, 1, 2, 2.5, 5 s, ...) so that there are
// at most `max_buckets`. Bars are scaled to `bar_width` characters. Empty
// when `settle_ms` is.
std::string settle_histogram(std::vector<std::int64_t> settle_ms, std::size_t max_buckets = 12,
                             std::size_t bar_width = 40);

// "settle: median 300 ms, p90 500 ms, p99 900 ms, max 1200 ms over 198 converged seeds (2 failed)"
// (percentiles by nearest rank).
std::string settle_summary(std::vector<std::int64_t> settle_ms, std::uint64_t failed);

// The readable timeline of one run, from a report with its trace
// (keep_trace): a header (seed, failure, replay command, settings, counts, a
// legend), then one line per trace line: virtual time in seconds, who
// (instance or "room"/"sim"), what kind (person, ipc, room, fault, ...),
// what.
std::string timeline_text(const SimConfig& config, const SimReport& report);

// wibwob-sim-seed-<seed>.timeline.txt
std::string timeline_file_name(std::uint64_t seed);

// Writes timeline_text to dir/timeline_file_name; returns the path, or an
// io_failed error saying why it could not.
protocol::Result<std::filesystem::path> write_timeline(const std::filesystem::path& dir, const SimConfig& config,
                                     const SimReport& report);

}  // namespace wibwob::sim

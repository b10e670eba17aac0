// What wibwob-sim shows over long runs (sim/long_run.hpp): the progress line,
// the settle-time histogram and summary, and a failing seed's timeline file.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <stdlib.h>  // mkdtemp

#include <gtest/gtest.h>

#include "sim/long_run.hpp"

using namespace wibwob::sim;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// A seed forced to fail: a settle limit shorter than any run needs.
SimConfig failing_config() {
  SimConfig c;
  c.seed = 5;
  c.active = Ms(2000);
  c.settle_limit = Ms(1);
  c.keep_trace = true;
  return c;
}

}  // namespace

TEST(SimLongRun, HistogramHasRoundBucketsAndScaledBars) {
  const std::string h = settle_histogram({0, 100, 100, 300, 300, 300, 300, 700}, 12, 8);
  EXPECT_EQ(h,
            "    0- 99 ms |##       1\n"
            "  100-199 ms |####     2\n"
            "  200-299 ms |         0\n"
            "  300-399 ms |######## 4\n"
            "  400-499 ms |         0\n"
            "  500-599 ms |         0\n"
            "  600-699 ms |         0\n"
            "  700-799 ms |##       1\n");
  // Wider ranges get wider buckets (100, 200, 250, 500, 1000, ...), never
  // more than asked for; a count of one still shows a bar.
  const auto wide = lines(settle_histogram({0, 2400, 59000}, 12, 10));
  ASSERT_EQ(wide.size(), 12u);
  EXPECT_EQ(wide.front(), "      0- 4999 ms |########## 2");
  EXPECT_EQ(wide.back(), "  55000-59999 ms |#####      1");
  EXPECT_EQ(lines(settle_histogram({0, 1100}, 12, 10)).size(), 12u);  // 100 ms buckets: 0..1199
  EXPECT_EQ(lines(settle_histogram({0, 1200}, 12, 10)).front(), "     0- 199 ms |########## 1");
  EXPECT_EQ(lines(settle_histogram({10000}, 12, 4)).back(), "  10000-10999 ms |#### 1");
  EXPECT_EQ(settle_histogram({}), "");
}

TEST(SimLongRun, SettleSummaryUsesNearestRankPercentiles) {
  std::vector<std::int64_t> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i * 10);
  EXPECT_EQ(settle_summary(v, 0), "settle: median 500 ms, p90 900 ms, p99 990 ms, max 1000 ms over 100 converged seeds");
  EXPECT_EQ(settle_summary({300}, 2), "settle: median 300 ms, p90 300 ms, p99 300 ms, max 300 ms over 1 converged seed (2 failed)");
  EXPECT_EQ(settle_summary({}, 3), "settle: no seed converged (3 failed)");
}

TEST(SimLongRun, ProgressLineSaysRateSpeedAndEta) {
  EXPECT_EQ(progress_line({0, 200, 0, 0, 0}), "seeds 0/200, - seeds/s, ETA -");
  // 50 seeds in 4 s: 12.5 seeds/s; 50 x 21 s virtual in 4 s; 150 left: 12 s.
  EXPECT_EQ(progress_line({50, 200, 1, 4.0, 50 * 21000}), "seeds 50/200 (1 failed), 12.5 seeds/s, 262x real time, ETA 12s");
  EXPECT_EQ(progress_line({1, 1000, 0, 2.0, 21000}), "seeds 1/1000, 0.5 seeds/s, 10x real time, ETA 33m18s");
  EXPECT_EQ(progress_line({200, 200, 0, 9.0, 1}), "seeds 200/200, 22.2 seeds/s, 0x real time, ETA 0s");
}

TEST(SimLongRun, AFailingSeedsTimelineSaysWhoDidWhatWhen) {
  const SimConfig c = failing_config();
  const SimReport r = run_simulation(c);
  ASSERT_FALSE(r.converged);
  ASSERT_FALSE(r.trace.empty());
  const std::string text = timeline_text(c, r);
  const auto l = lines(text);
  EXPECT_EQ(l[0], "wibwob-sim timeline of seed 5: FAILED");
  EXPECT_EQ(l[1], "failure: " + r.failure);
  EXPECT_EQ(l[2], "replay:  " + replay_command(c));
  EXPECT_NE(replay_command(c).find(" --settle-limit-ms 1 "), std::string::npos);
  // One line per trace line, in order, with time, who, kind and what.
  std::size_t first = 0;
  while (first < l.size() && l[first].find("0.000  i0   bridge     bridge engine starting") == std::string::npos) ++first;
  ASSERT_LT(first, l.size()) << text;
  EXPECT_EQ(l.size(), first + r.trace.size() + 2);  // + the blank line and the end line
  EXPECT_EQ(l.back(), "end of the run: " + r.failure);
  auto has = [&](const std::string& what) { return text.find(what) != std::string::npos; };
  EXPECT_TRUE(has("  ipc        cmd:get_state\n")) << text;
  EXPECT_TRUE(has("  from room  {\"room\":\"sim-room\"")) << text;
  EXPECT_TRUE(has("  to room    {")) << text;
  EXPECT_TRUE(has("  person     ")) << text;
  EXPECT_TRUE(has("  -    sim        active phase over at 2000 ms")) << text;
}

TEST(SimLongRun, FaultsAreMarkedInTheTimeline) {
  SimConfig c = failing_config();
  c.faults_per_second = 5;
  const SimReport r = run_simulation(c);
  ASSERT_GT(r.faults, 0u);
  EXPECT_NE(timeline_text(c, r).find(" FAULT      "), std::string::npos);
}

TEST(SimLongRun, TheTimelineIsWrittenToAFileNamedForTheSeed) {
  std::string tmpl = (fs::temp_directory_path() / "wibwob-sim-timeline-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = tmpl;
  const SimConfig c = failing_config();
  const SimReport r = run_simulation(c);
  const auto written = write_timeline(dir, c, r);
  ASSERT_TRUE(written.ok()) << written.error().message;
  const fs::path p = *written;
  EXPECT_EQ(p, dir / "wibwob-sim-seed-5.timeline.txt");
  EXPECT_EQ(timeline_file_name(5), "wibwob-sim-seed-5.timeline.txt");
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  EXPECT_EQ(s.str(), timeline_text(c, r));
  const auto refused = write_timeline(dir / "no-such-dir", c, r);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, wibwob::protocol::Errc::io_failed);
  EXPECT_NE(refused.error().message.find("no-such-dir"), std::string::npos) << refused.error().message;
  fs::remove_all(dir);
}

// The trace of a run without keep_trace is not kept, but the run is the
// same: wibwob-sim runs a failing seed again with it to write the timeline.
TEST(SimLongRun, KeepingTheTraceDoesNotChangeTheRun) {
  SimConfig c = failing_config();
  const SimReport traced = run_simulation(c);
  c.keep_trace = false;
  const SimReport plain = run_simulation(c);
  EXPECT_TRUE(plain.trace.empty());
  EXPECT_EQ(plain.failure, traced.failure);
  EXPECT_EQ(plain.actions, traced.actions);
  EXPECT_EQ(plain.deltas_sent, traced.deltas_sent);
  EXPECT_EQ(plain.ipc_commands, traced.ipc_commands);
}

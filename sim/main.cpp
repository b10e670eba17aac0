// wibwob-sim: runs the deterministic simulator for one or many seeds and
// prints a summary and a histogram of settle times. A failing seed is printed
// with the command that replays it and its timeline is written to a file. On
// a terminal a progress line is kept up to date below the seeds' lines.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <sstream>
#include <string>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "common/logging.hpp"
#include "sim/acceptance.hpp"
#include "sim/long_run.hpp"
#include "sim/seed_runner.hpp"
#include "sim/simulator.hpp"
#include "wibwob/version.hpp"

namespace {

void add_chat(wibwob::sim::ChatCounts& a, const wibwob::sim::ChatCounts& b) {
  a.typed += b.typed;
  a.reached_server += b.reached_server;
  a.shown += b.shown;
  a.refused_by_app += b.refused_by_app;
  a.missed_offline += b.missed_offline;
  a.lost_app_crash += b.lost_app_crash;
  a.lost_bridge_restart += b.lost_bridge_restart;
  a.lost_in_drop += b.lost_in_drop;
  a.over_rate += b.over_rate;
}

std::string describe(const wibwob::sim::ChatCounts& c) {
  return std::to_string(c.typed) + " lines typed, " + std::to_string(c.reached_server) + " reached the room, " +
         std::to_string(c.shown) + " copies shown exactly once and in order; not delivered (counted, see "
         "docs/bridge.md): " + std::to_string(c.missed_offline) + " relayed while the recipient was offline, " +
         std::to_string(c.lost_in_drop) + " lost in a connection drop, " + std::to_string(c.lost_bridge_restart) +
         " held by a restarted bridge, " + std::to_string(c.lost_app_crash) + " queued in a crashed app, " +
         std::to_string(c.refused_by_app) + " refused by an app, " + std::to_string(c.over_rate) +
         " over a recipient's chat rate bound";
}

void add_reconnects(wibwob::sim::ReconnectCounts& a, const wibwob::sim::ReconnectCounts& b) {
  a.long_outages += b.long_outages;
  a.syncs += b.syncs;
  a.sync_deltas += b.sync_deltas;
  a.sync_deltas_peak = std::max(a.sync_deltas_peak, b.sync_deltas_peak);
  a.resent_deltas += b.resent_deltas;
  a.resent_entries += b.resent_entries;
  a.resent_entries_peak = std::max(a.resent_entries_peak, b.resent_entries_peak);
  a.offline_changes += b.offline_changes;
  a.offline_peak = std::max(a.offline_peak, b.offline_peak);
  a.unproven_windows += b.unproven_windows;
  a.unproven_dropped += b.unproven_dropped;
  a.came_back += b.came_back;
  a.oracle_writes += b.oracle_writes;
  a.oracle_relanded += b.oracle_relanded;
  a.oracle_never_landed += b.oracle_never_landed;
  a.oracle_lost_with_bridge += b.oracle_lost_with_bridge;
}

// Several lines: what (re)joins sent, offline work, unproven writes, windows
// that came back, and what the write oracle followed.
std::string describe(const wibwob::sim::ReconnectCounts& r) {
  auto n = [](std::uint64_t v) { return std::to_string(v); };
  return n(r.syncs) + " state_syncs (joins and rejoins) were answered with " + n(r.sync_deltas) + " deltas (at most " +
         n(r.sync_deltas_peak) + " to one); " + n(r.resent_deltas) +
         " of them carried re-sent and offline changes, folded to " + n(r.resent_entries) + " window entries (at most " +
         n(r.resent_entries_peak) + " to one state_sync)\n" +
         "  offline: " + n(r.offline_changes) + " local changes seen while not synced, held as at most " +
         n(r.offline_peak) + " windows by one bridge; " + n(r.long_outages) + " long outages\n" +
         "  unproven: " + n(r.unproven_windows) +  " windows had writes sent without proof at a state_sync; " +
         n(r.unproven_dropped) + " of them not re-sent (the room showed a later write)\n" +
         "  came back: " + n(r.came_back) +
         " removed windows re-added by a late write (a re-sent add, a move sequenced after the removal), removed "
         "again by their remover\n" +
         "  write oracle: " + n(r.oracle_writes) + " writes followed through the room, " + n(r.oracle_relanded) +
         " sequenced again, " + n(r.oracle_never_landed) + " sent but never arrived, " + n(r.oracle_lost_with_bridge) +
         " held by a bridge that restarted";
}

struct SeedTotals {
  std::uint64_t ok = 0, failed = 0, actions = 0, faults = 0, deltas = 0, reused_id_opens = 0;
  std::int64_t worst_settle = 0;
  wibwob::sim::ChatCounts chat;
  wibwob::sim::ReconnectCounts reconnects;
  void add(const wibwob::sim::SimReport& r) {
    ++(r.converged ? ok : failed);
    actions += r.actions;
    faults += r.faults;
    deltas += r.deltas_sent;
    reused_id_opens += r.opened_over_reused_id;
    add_chat(chat, r.chat);
    add_reconnects(reconnects, r.reconnects);
    worst_settle = std::max<std::int64_t>(worst_settle, r.settled_after.count());
  }
};

void print_converged(const wibwob::sim::SimReport& r, bool json);

// The progress line on a terminal: redrawn in place at most 10 times a
// second, cleared before anything else is printed. Off: does nothing.
class ProgressDisplay {
 public:
  explicit ProgressDisplay(bool on) : on_(on) {}
  void clear() {
    if (!drawn_) return;
    std::cout << "\r\033[K" << std::flush;
    drawn_ = false;
  }
  void draw(const wibwob::sim::RunProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (!on_ || (p.done < p.total && now - last_ < std::chrono::milliseconds(100))) return;
    last_ = now;
    std::cout << "\r\033[K" << wibwob::sim::progress_line(p) << std::flush;
    drawn_ = true;
  }

 private:
  bool on_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

struct RunOptions {
  bool verbose = false, quiet = false;
  bool fail_fast = false;  // stop after the first seed that fails
  std::string timeline_dir = ".";
  bool json = false;  // --log-format json: one JSON object per result line (common/logging.hpp)
};

using wibwob::logging::log_fields;
std::string hex(std::uint64_t v) {
  std::ostringstream o;
  o << std::hex << v;
  return o.str();
}

// A failed seed: its failure, the trace (--verbose), the timeline file (the
// seed run again with its trace kept, unless it was) and the replay command.
void report_failure(const wibwob::sim::SimConfig& c, const wibwob::sim::SimReport& r, const RunOptions& o) {
  if (o.json) {
    log_fields(spdlog::level::err, "seed failed",
               {{"seed", std::to_string(c.seed)}, {"failure", r.failure}, {"replay", wibwob::sim::replay_command(c)}});
    return;
  }
  std::cout << "seed " << c.seed << ": FAILED: " << r.failure << "\n";
  if (o.verbose)
    for (const auto& line : r.trace) std::cout << "    " << line << "\n";
  wibwob::sim::SimReport traced;
  if (c.keep_trace) {
    traced = r;
  } else {
    auto again = c;
    again.keep_trace = true;
    traced = wibwob::sim::run_simulation(again);
    if (traced.failure != r.failure) std::cout << "  (run again with its trace, it ended: " << traced.failure << ")\n";
  }
  if (const auto path = wibwob::sim::write_timeline(o.timeline_dir, c, traced))
    std::cout << "  timeline: " << path->string() << "\n";
  else
    std::cout << "  timeline: not written: " << path.error().message << "\n";
  std::cout << "  replay: " << wibwob::sim::replay_command(c) << "\n";
}

// How long the seeds took: wall and CPU time (all threads), the virtual
// time they covered (active phase plus settling), and the threads.
struct Clocks {
  double wall_s = 0, cpu_s = 0, virtual_s = 0;
  unsigned jobs = 1;
  double rate() const { return wall_s > 0 ? virtual_s / wall_s : 0; }
};

void print_totals(const wibwob::sim::SimConfig& c, const SeedTotals& t, const std::vector<std::int64_t>& settles,
                  const Clocks& k, bool json) {
  char rate[32], detail[160];
  std::snprintf(rate, sizeof rate, "%.0f", k.rate());
  std::snprintf(detail, sizeof detail, "%.0f s virtual; CPU %.3f s, %.0fx per CPU second; %u job%s", k.virtual_s,
                k.cpu_s, k.cpu_s > 0 ? k.virtual_s / k.cpu_s : 0.0, k.jobs, k.jobs == 1 ? "" : "s");
  if (json) {
    log_fields(t.failed ? spdlog::level::err : spdlog::level::info, "summary",
               {{"converged", std::to_string(t.ok)}, {"failed", std::to_string(t.failed)},
                {"instances", std::to_string(c.instances)}, {"actions", std::to_string(t.actions)},
                {"faults", std::to_string(t.faults)}, {"deltas", std::to_string(t.deltas)},
                {"slowest_settle_ms", std::to_string(t.worst_settle)}, {"wall_s", std::to_string(k.wall_s)},
                {"cpu_s", std::to_string(k.cpu_s)}, {"virtual_s", std::to_string(k.virtual_s)},
                {"rate_x", rate}, {"jobs", std::to_string(k.jobs)},
                {"syncs", std::to_string(t.reconnects.syncs)},
                {"sync_deltas", std::to_string(t.reconnects.sync_deltas)},
                {"sync_deltas_peak", std::to_string(t.reconnects.sync_deltas_peak)},
                {"resent_entries_peak", std::to_string(t.reconnects.resent_entries_peak)},
                {"offline_changes", std::to_string(t.reconnects.offline_changes)},
                {"oracle_writes", std::to_string(t.reconnects.oracle_writes)}});
    return;
  }
  if (!settles.empty())
    std::cout << "settle times (virtual ms from the end of the active phase until quiet), converged seeds:\n"
              << wibwob::sim::settle_histogram(settles);
  std::cout << wibwob::sim::settle_summary(settles, t.failed) << "\n";
  std::cout << "summary: " << t.ok << " of " << (t.ok + t.failed) << " seeds converged (" << c.instances
            << " instances, " << t.actions << " actions, " << t.faults << " faults, " << t.deltas
            << " deltas; slowest settle " << t.worst_settle << " ms virtual) in " << k.wall_s << " s, rate " << rate
            << "x (" << detail << ")\n";
  if (c.chat) std::cout << "chat: " << describe(t.chat) << "\n";
  std::cout << "after reconnects: " << describe(t.reconnects) << "\n";
  if (t.reused_id_opens)
    std::cout << "app id-reuse quirk: " << t.reused_id_opens
              << " window(s) opened with the id of a same-type window closed since the last poll travelled as a "
                 "move of it (see docs/simulator.md)\n";
}

// Runs seeds [seed, seed + seeds) on `jobs` threads and prints a line per
// seed, in seed order whatever the jobs, and a summary.
int run_seeds(const wibwob::sim::SimConfig& c, std::uint64_t seed, std::uint64_t seeds, unsigned jobs,
              const RunOptions& o) {
  SeedTotals t;
  std::vector<std::int64_t> settles;
  ProgressDisplay bar(!o.json && ::isatty(STDOUT_FILENO) == 1);
  wibwob::sim::RunProgress p{0, seeds, 0, 0, 0};
  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t cpu0 = std::clock();
  wibwob::sim::run_seeds(c, seed, seeds, jobs, o.verbose, [&](wibwob::sim::SeedRun&& run) {
    const auto& r = run.report;
    if (!run.progress.empty()) bar.clear();
    for (const auto& line : run.progress) std::cout << "  seed " << r.seed << ": " << line << "\n";
    t.add(r);
    if (r.converged) {
      settles.push_back(r.settled_after.count());
      if (!o.quiet) {
        bar.clear();
        print_converged(r, o.json);
      }
    } else {
      bar.clear();
      auto failed = c;
      failed.seed = r.seed;
      report_failure(failed, r, o);
    }
    std::cout.flush();
    ++p.done;
    p.failed = t.failed;
    p.virtual_ms += (c.active + r.settled_after).count();
    p.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bar.draw(p);
    return r.converged || !o.fail_fast;
  });
  bar.clear();
  if (o.fail_fast && t.failed && t.ok + t.failed < seeds)
    std::cout << "stopped after the first failed seed (--fail-fast): " << (t.ok + t.failed) << " of " << seeds
              << " seeds run\n";
  Clocks clocks;
  clocks.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  clocks.cpu_s = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  clocks.virtual_s = static_cast<double>(p.virtual_ms) / 1000.0;
  clocks.jobs = wibwob::sim::resolve_jobs(jobs, seeds);
  print_totals(c, t, settles, clocks, o.json);
  return t.failed ? 1 : 0;
}

void print_converged(const wibwob::sim::SimReport& r, bool json) {
  if (json) {
    log_fields(spdlog::level::info, "seed converged",
               {{"seed", std::to_string(r.seed)}, {"settled_ms", std::to_string(r.settled_after.count())},
                {"actions", std::to_string(r.actions)}, {"faults", std::to_string(r.faults)},
                {"deltas", std::to_string(r.deltas_sent)}, {"room_windows", std::to_string(r.room_windows)},
                {"trace", hex(r.trace_hash)}});
    return;
  }
  std::cout << "seed " << r.seed << ": converged in " << r.settled_after.count() << " ms after " << r.actions
            << " actions, " << r.faults << " faults, " << r.deltas_sent << " deltas; " << r.room_windows
            << " windows in the room"
            << (r.recovered_after ? "; in sync " + std::to_string(r.recovered_after->count()) + " ms after the probe's fault"
                                  : std::string())
            << " (trace " << std::hex << r.trace_hash << std::dec << ")\n";
}

int run_acceptance_main(const wibwob::sim::AcceptanceConfig& a, bool json) {
  const auto t0 = std::chrono::steady_clock::now();
  bool all = true;
  for (const auto& r : wibwob::sim::run_acceptance(a)) {
    if (json) {
      log_fields(r.pass ? spdlog::level::info : spdlog::level::err, r.line,
                 {{"criterion", r.name}, {"pass", r.pass ? "true" : "false"}});
      all = all && r.pass;
      continue;
    }
    std::cout << r.line << "\n";
    for (const auto& f : r.failures) std::cout << "  " << f << "\n";
    all = all && r.pass;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (json) {
    log_fields(all ? spdlog::level::info : spdlog::level::err, all ? "all four criteria pass" : "acceptance FAILED",
               {{"seeds", std::to_string(a.seeds)}, {"first_seed", std::to_string(a.first_seed)},
                {"instances", std::to_string(a.instances)}, {"wall_s", std::to_string(secs)}});
    return all ? 0 : 1;
  }
  std::cout << "acceptance: " << (all ? "all four criteria pass" : "FAILED") << " (" << a.seeds << " seeds from "
            << a.first_seed << ", " << a.instances << " instances, " << secs << " s)\n";
  return all ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  using wibwob::sim::Ms;
  CLI::App cli{"wibwob-sim: deterministic multiplayer simulation (apps, bridges, room, network, faults) "
               "that checks every instance converges to the room's layout"};
  cli.set_version_flag("--version", std::string("wibwob-sim ") + wibwob::version);
  std::uint64_t seed = 1;
  std::uint64_t seeds = 1;
  wibwob::sim::SimConfig c;
  std::int64_t active_ms = c.active.count();
  std::int64_t poll_ms = c.poll_interval.count();
  std::int64_t net_ms = c.net_latency_max.count(), ipc_ms = c.ipc_latency_max.count();
  std::int64_t tick_ms = c.app_tick.count();
  bool no_faults = false, no_chat = false, no_desktop = false, no_id_reuse = false, no_handover = false, verbose = false, quiet = false, acceptance = false;
  std::string recovery;
  std::int64_t recovery_at_ms = 5000, server_down_ms = 1000;
  cli.add_option("--seed", seed, "first seed")->capture_default_str();
  cli.add_option("--seeds", seeds, "how many seeds to run, from --seed on")->capture_default_str()->check(CLI::Range(1, 1000000));
  cli.add_option("--instances", c.instances, "app instances in the room")->capture_default_str()->check(CLI::Range(1, 64));
  cli.add_option("--active-ms", active_ms, "virtual ms of people acting and faults")->capture_default_str()->check(CLI::Range(0, 3600000));
  cli.add_option("--poll-ms", poll_ms, "bridge get_state poll interval")->capture_default_str()->check(CLI::Range(10, 10000));
  cli.add_option("--actions-per-second", c.actions_per_second, "people's actions, all instances together")->capture_default_str();
  cli.add_option("--faults-per-second", c.faults_per_second, "drops, restarts, outages")->capture_default_str();
  cli.add_option("--net-latency-ms", net_ms, "largest one-way network latency")->capture_default_str()->check(CLI::Range(1, 60000));
  cli.add_option("--ipc-latency-ms", ipc_ms, "largest IPC round-trip latency")->capture_default_str()->check(CLI::Range(0, 60000));
  cli.add_option("--app-tick-ms", tick_ms, "the app serves one IPC connection per tick (real app: 20; 0: no tick)")->capture_default_str()->check(CLI::Range(0, 1000));
  cli.add_option("--chat-per-second", c.chat_per_second, "room chat lines people type, all instances together")->capture_default_str();
  cli.add_flag("--no-faults", no_faults, "no connection drops or restarts");
  cli.add_flag("--no-chat", no_chat, "bridges do not relay chat and presence; nobody types");
  cli.add_flag("--no-desktop-actions", no_desktop, "no tile, cascade, close_all, workspace save/restore or drags");
  cli.add_flag("--no-id-reuse", no_id_reuse, "the apps never reuse a window id (the real app does)");
  cli.add_flag("--no-handover", no_handover,
               "a restarted bridge matches the app's windows by content instead of resuming the last run's mapping");
  cli.add_option("--recovery", recovery, "AC-4's probe: one fault of this kind, then people stop")->check(CLI::IsMember({"drop", "room-restart"}));
  cli.add_option("--recovery-at-ms", recovery_at_ms, "when the --recovery fault happens")->capture_default_str();
  cli.add_option("--server-down-ms", server_down_ms, "--recovery room-restart: how long the server is gone")->capture_default_str();
  std::int64_t long_outage_ms = c.long_outage.count();
  cli.add_option("--long-outages", c.long_outages,
                 "per seed, this many times one instance cannot reach the room for --long-outage-ms while a busy "
                 "person on it keeps working")
      ->capture_default_str()->check(CLI::Range(0, 1000));
  cli.add_option("--long-outage-ms", long_outage_ms, "how long a long outage lasts")->capture_default_str()->check(CLI::Range(1, 3600000));
  cli.add_option("--busy-actions-per-second", c.busy_actions_per_second,
                 "what the busy person on a cut-off instance does per second (drags, moves, resizes, opens, closes)")
      ->capture_default_str();
  std::string resend_rule = "current";
  cli.add_option("--resend-rule", resend_rule,
                 "current, or legacy: the re-send rule before issue 14, which the write oracle must catch")
      ->capture_default_str()->check(CLI::IsMember({"current", "legacy"}));
  cli.add_flag("--acceptance", acceptance,
               "run the acceptance criteria AC-1..AC-4 over --seeds seeds (default 40) from --seed; one line each");
  unsigned jobs = 1;
  cli.add_option("--jobs", jobs, "run seeds on this many threads (0: one per core); output and per-seed results "
                                 "are the same for any value")
      ->capture_default_str()->check(CLI::Range(0u, 1024u));
  bool fail_fast = false;
  cli.add_flag("--fail-fast", fail_fast, "stop after the first seed that fails (the summary counts the seeds run)");
  cli.add_flag("--verbose", verbose, "print every phase line, and the trace of a failing seed");
  cli.add_flag("--quiet", quiet, "print only the summary");
  std::string timeline_dir = ".";
  cli.add_option("--timeline-dir", timeline_dir,
                 "where a failing seed's timeline goes: DIR/wibwob-sim-seed-<N>.timeline.txt")
      ->capture_default_str();
  std::int64_t settle_ms = c.settle_limit.count();
  cli.add_option("--settle-limit-ms", settle_ms, "after the active phase, the run fails unless quiet within this")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600000));
  std::string log_format = "text";
  cli.add_option("--log-format", log_format,
                 "text (a report for people), or json: one object per seed, criterion and summary (docs/simulator.md)")
      ->capture_default_str()->check(CLI::IsMember({"text", "json"}));
  CLI11_PARSE(cli, argc, argv);
  const bool json = log_format == "json";
  if (json) wibwob::logging::configure_logging("sim", wibwob::logging::Format::json, spdlog::level::info);
  c.active = Ms(active_ms);
  c.settle_limit = Ms(settle_ms);
  c.poll_interval = Ms(poll_ms);
  c.faults = !no_faults;
  c.net_latency_max = Ms(net_ms);
  c.ipc_latency_max = Ms(ipc_ms);
  c.keep_trace = verbose;
  c.app_tick = Ms(tick_ms);
  c.chat = !no_chat;
  c.desktop_actions = !no_desktop;
  c.id_reuse = !no_id_reuse;
  c.handover = !no_handover;
  c.long_outage = Ms(long_outage_ms);
  c.legacy_resend = resend_rule == "legacy";
  if (!recovery.empty()) {
    wibwob::sim::RecoveryProbe p;
    p.kind = recovery == "drop" ? wibwob::sim::RecoveryProbe::Kind::drop : wibwob::sim::RecoveryProbe::Kind::room_restart;
    p.at = Ms(recovery_at_ms);
    p.server_down = Ms(server_down_ms);
    c.recovery = p;
  }
  if (acceptance) {
    wibwob::sim::AcceptanceConfig a;
    a.first_seed = seed;
    if (cli.count("--seeds")) a.seeds = seeds;
    if (cli.count("--instances")) a.instances = c.instances;
    a.id_reuse = c.id_reuse;
    return run_acceptance_main(a, json);
  }

  return run_seeds(c, seed, seeds, jobs, RunOptions{verbose, quiet, fail_fast, timeline_dir, json});
}

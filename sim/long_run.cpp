#include "sim/long_run.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace wibwob::sim {

namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// "13s", "4m05s", "2h03m"
std::string duration(double s) {
  const auto t = static_cast<long long>(std::clamp(s, 0.0, 1e9) + 0.5);
  char buf[48];
  if (t < 60) std::snprintf(buf, sizeof buf, "%llds", t);
  else if (t < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, t / 60 % 60);
  return buf;
}

// The smallest round bucket width that needs at most `max_buckets` buckets
// from 0 to `max_value`.
std::int64_t bucket_width(std::int64_t max_value, std::size_t max_buckets) {
  for (std::int64_t scale = 10;; scale *= 10)
    for (std::int64_t tenths : {10, 20, 25, 50}) {
      const std::int64_t w = scale * tenths;  // 100, 200, 250, 500, 1000, ...
      if (static_cast<std::size_t>(max_value / w + 1) <= max_buckets) return w;
    }
}

std::int64_t nearest_rank(const std::vector<std::int64_t>& sorted, int percent) {
  const std::size_t rank = (sorted.size() * static_cast<std::size_t>(percent) + 99) / 100;
  return sorted[std::max<std::size_t>(rank, 1) - 1];
}

}  // namespace

std::string progress_line(const RunProgress& p) {
  std::string out = "seeds " + std::to_string(p.done) + "/" + std::to_string(p.total);
  if (p.failed) out += " (" + std::to_string(p.failed) + " failed)";
  if (p.done == 0 || p.wall_s <= 0) return out + ", - seeds/s, ETA -";
  const double rate = static_cast<double>(p.done) / p.wall_s;
  const double speed = static_cast<double>(p.virtual_ms) / 1000.0 / p.wall_s;
  const double eta = static_cast<double>(p.total - std::min(p.done, p.total)) / rate;
  return out + ", " + fixed(rate, 1) + " seeds/s, " + fixed(speed, 0) + "x real time, ETA " + duration(eta);
}

std::string settle_histogram(std::vector<std::int64_t> settle_ms, std::size_t max_buckets, std::size_t bar_width) {
  if (settle_ms.empty() || max_buckets == 0) return {};
  const std::int64_t max_value = std::max<std::int64_t>(0, *std::max_element(settle_ms.begin(), settle_ms.end()));
  const std::int64_t w = bucket_width(max_value, max_buckets);
  std::vector<std::size_t> counts(static_cast<std::size_t>(max_value / w + 1), 0);
  for (auto v : settle_ms) ++counts[static_cast<std::size_t>(std::max<std::int64_t>(v, 0) / w)];
  const std::size_t most = *std::max_element(counts.begin(), counts.end());
  const int label = static_cast<int>(std::to_string(w * static_cast<std::int64_t>(counts.size())).size());
  std::ostringstream o;
  for (std::size_t b = 0; b < counts.size(); ++b) {
    const std::int64_t lo = static_cast<std::int64_t>(b) * w;
    std::size_t len = counts[b] * bar_width / most;
    if (counts[b] > 0 && len == 0) len = 1;
    char range[96];
    std::snprintf(range, sizeof range, "  %*lld-%*lld ms |", label, static_cast<long long>(lo), label,
                  static_cast<long long>(lo + w - 1));
    o << range << std::string(len, '#') << std::string(bar_width - len, ' ') << " " << counts[b] << "\n";
  }
  return o.str();
}

std::string settle_summary(std::vector<std::int64_t> settle_ms, std::uint64_t failed) {
  const std::string tail = failed ? " (" + std::to_string(failed) + " failed)" : std::string();
  if (settle_ms.empty()) return "settle: no seed converged" + tail;
  std::sort(settle_ms.begin(), settle_ms.end());
  return "settle: median " + std::to_string(nearest_rank(settle_ms, 50)) + " ms, p90 " +
         std::to_string(nearest_rank(settle_ms, 90)) + " ms, p99 " + std::to_string(nearest_rank(settle_ms, 99)) +
         " ms, max " + std::to_string(settle_ms.back()) + " ms over " + std::to_string(settle_ms.size()) +
         " converged seed" + (settle_ms.size() == 1 ? "" : "s") + tail;
}

std::string timeline_file_name(std::uint64_t seed) {
  return "wibwob-sim-seed-" + std::to_string(seed) + ".timeline.txt";
}

namespace {

struct TraceLine {
  std::string time, who, kind, what;
};

bool starts(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// Splits "[1234] i2 person opens text_view" into its columns; "who" is the
// instance, or "-" for the room server and the run itself.
TraceLine split(const std::string& line) {
  TraceLine t{"", "-", "sim", line};
  if (auto close = line.find("] "); starts(line, "[") && close != std::string::npos) {
    const double ms = std::strtod(line.c_str() + 1, nullptr);
    t.time = fixed(ms / 1000.0, 3);
    t.what = line.substr(close + 2);
  }
  if (t.what.size() > 1 && t.what[0] == 'i' && std::isdigit(static_cast<unsigned char>(t.what[1]))) {
    const auto sp = t.what.find(' ');
    t.who = t.what.substr(0, sp);
    t.what = sp == std::string::npos ? std::string() : t.what.substr(sp + 1);
  }
  struct Kind {
    const char* prefix;
    const char* kind;
    bool strip;  // the prefix says no more than the kind
  };
  static const Kind kinds[] = {{"ipc> ", "ipc", true},          {"room> ", "to room", true},
                               {"<room ", "from room", true},   {"fault: ", "FAULT", true},
                               {"log: ", "bridge", true},       {"person ", "person", true},
                               {"other IPC client: ", "ipc client", true}, {"connected as", "net", false},
                               {"closes: ", "net", false},      {"app is back", "app", false},
                               {"recovery probe: ", "FAULT", true}};
  for (const auto& k : kinds)
    if (starts(t.what, k.prefix)) {
      t.kind = k.kind;
      if (k.strip) t.what = t.what.substr(std::char_traits<char>::length(k.prefix));
      break;
    }
  return t;
}

std::string header(const SimConfig& c, const SimReport& r) {
  std::ostringstream o;
  o << "wibwob-sim timeline of seed " << r.seed << ": " << (r.converged ? "converged" : "FAILED") << "\n";
  if (!r.failure.empty()) o << "failure: " << r.failure << "\n";
  o << "replay:  " << replay_command(c) << "\n"
    << "run:     " << c.instances << " instances, " << r.actions << " actions, " << r.faults << " faults, "
    << r.deltas_sent << " deltas, " << r.ipc_commands << " IPC commands; active phase " << c.active.count()
    << " ms, then settling for " << r.settled_after.count() << " ms (limit " << c.settle_limit.count() << " ms)\n"
    << "\n"
    << "Columns: virtual time (s), who (iN: instance N and its bridge; -: the room server or the run), what kind,\n"
    << "what. Kinds: person (a person at that desktop), ipc client (another program on the app's IPC), ipc (a\n"
    << "command the bridge sent its app), to room / from room (a message between the bridge and the room server),\n"
    << "net (the room connection opened or closed), bridge (the bridge engine's log), FAULT (an injected fault),\n"
    << "app (an app back after a crash), sim (the run's phases and probes).\n\n";
  return o.str();
}

}  // namespace

std::string timeline_text(const SimConfig& config, const SimReport& report) {
  std::string out = header(config, report);
  char buf[64];
  for (const auto& line : report.trace) {
    const TraceLine t = split(line);
    std::snprintf(buf, sizeof buf, "%10s  %-4s %-10s ", t.time.c_str(), t.who.c_str(), t.kind.c_str());
    out += buf + t.what + "\n";
  }
  if (!report.failure.empty()) out += "\nend of the run: " + report.failure + "\n";
  return out;
}

protocol::Result<std::filesystem::path> write_timeline(const std::filesystem::path& dir, const SimConfig& config,
                                                       const SimReport& report) {
  const auto path = dir / timeline_file_name(report.seed);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << timeline_text(config, report);
  out.close();
  if (!out) return protocol::make_error(protocol::Errc::io_failed, "cannot write " + path.string());
  return path;
}

}  // namespace wibwob::sim

#include "sim/seed_runner.hpp"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

namespace wibwob::sim {

namespace {

SeedRun run_one(SimConfig c, std::uint64_t seed, bool keep_progress) {
  c.seed = seed;
  SeedRun out;
  std::function<void(const std::string&)> progress;
  if (keep_progress) progress = [&out](const std::string& line) { out.progress.push_back(line); };
  out.report = run_simulation(c, progress);
  return out;
}

}  // namespace

unsigned resolve_jobs(unsigned jobs, std::uint64_t seeds) {
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(std::max<std::uint64_t>(1, std::min<std::uint64_t>(jobs, seeds)));
}

void run_seeds(const SimConfig& config, std::uint64_t first, std::uint64_t count, unsigned jobs,
               bool keep_progress, const std::function<bool(SeedRun&&)>& done) {
  const unsigned threads = resolve_jobs(jobs, count);
  if (threads == 1) {
    for (std::uint64_t i = 0; i < count; ++i)
      if (!done(run_one(config, first + i, keep_progress))) return;
    return;
  }
  // Seed i goes to slot i % window; a thread takes seed i only once seed
  // i - window has been handed to `done`, so the slots are enough.
  const std::uint64_t window = 4u * threads;
  struct Slot {
    std::optional<SeedRun> run;
    std::exception_ptr error;
  };
  std::vector<Slot> slots(window);
  std::mutex m;
  std::condition_variable cv;
  std::uint64_t next = 0;      // the next seed a thread takes
  std::uint64_t handed = 0;    // seeds given to `done`
  bool stop = false;           // `done` threw or said stop, or a seed threw: take no more
  auto work = [&] {
    for (;;) {
      std::uint64_t i = 0;
      {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return stop || next >= count || next < handed + window; });
        if (stop || next >= count) return;
        i = next++;
      }
      Slot s;
      try {
        s.run = run_one(config, first + i, keep_progress);
      } catch (...) {
        s.error = std::current_exception();
      }
      std::lock_guard lock(m);
      slots[i % window] = std::move(s);
      cv.notify_all();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
  std::exception_ptr error;
  bool more = true;
  for (std::uint64_t i = 0; i < count && more && !error; ++i) {
    Slot s;
    {
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return slots[i % window].run || slots[i % window].error; });
      s = std::move(slots[i % window]);
      slots[i % window] = Slot{};
    }
    if (s.error) {
      error = s.error;
    } else {
      try {
        more = done(std::move(*s.run));
      } catch (...) {
        error = std::current_exception();
      }
    }
    std::lock_guard lock(m);
    ++handed;
    if (error || !more) stop = true;
    cv.notify_all();
  }
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace wibwob::sim

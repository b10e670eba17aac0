// Scope: the coroutines one object runs, and the one way to end them.
//
// spawn(task, what) runs `task` on the scope's executor, bound to a
// cancellation signal of the scope's own; cancel() (and the destructor)
// emits a terminal cancellation to every task still running: each ends at
// its next co_await (a pending operation completes with operation_aborted,
// Asio throws it at the next co_await, net::checkpoint() after a result that
// raced the cancellation), and that ending is a normal return
// (net::until_cancelled). Any other exception is a bug: net::fail_loudly.
//
// The signals live in a state that the tasks' completion handlers share, so a
// scope may be destroyed while its tasks still have to be resumed to unwind:
// nothing of the scope is freed under them. What a task touches of its owner
// after an await is the owner's business: with a scope as a member, the
// owner's destructor cancels the tasks, and a task touches the owner only
// where it was not cancelled (after a checkpoint or an await that returned).
//
// Single-threaded: the executor's one thread only.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include "net/cancellation.hpp"
#include "net/spawn.hpp"

namespace wibwob::net {

class Scope {
 public:
  explicit Scope(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}
  ~Scope() { cancel(); }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

  void spawn(boost::asio::awaitable<void> task, std::string what) {
    // Tasks that ended are forgotten here, never inside their own completion
    // (their coroutine is still unwinding then, on the signal's storage).
    state_->tasks.remove_if([](const Task& t) { return t.done; });
    Task& t = state_->tasks.emplace_back();
    boost::asio::co_spawn(ex_, run(&t, std::move(task)), Done{ex_, state_, &t, fail_loudly(std::move(what))});
  }

  // Terminal cancellation to every task still running.
  void cancel() {
    for (auto& t : state_->tasks) {
      if (t.done || t.cancelled) continue;
      t.cancelled = true;
      // Asio 1.26's co_spawn throws out of io_context::run() when its
      // coroutine is cancelled before it first ran: such a task is told at
      // its start instead (run()).
      if (t.started) t.signal.emit(boost::asio::cancellation_type::terminal);
    }
  }

  // Tasks not yet ended (cancelled ones until they have unwound).
  std::size_t running() const {
    std::size_t n = 0;
    for (const auto& t : state_->tasks) n += t.done ? 0 : 1;
    return n;
  }

 private:
  struct Task {
    boost::asio::cancellation_signal signal;
    bool started = false;    // its coroutine ran (a cancellation can be emitted)
    bool cancelled = false;  // cancel() reached it
    bool done = false;       // its completion handler ran
  };
  struct State {
    std::list<Task> tasks;  // stable addresses: a task's signal never moves
  };

  // The completion handler, bound to the task's signal. Deliberately without
  // an associated executor: co_spawn then emits a cancellation at once
  // (with one, it dispatches the emission, which is deferred when cancel()
  // is called outside io_context::run(), and a coroutine could resume
  // uncancelled in between).
  struct Done {
    using cancellation_slot_type = boost::asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept { return task->signal.slot(); }

    void operator()(std::exception_ptr e) {
      task->done = true;
      // The coroutine still unwinds on the signal's storage: the state is
      // let go only after it has.
      boost::asio::post(ex, [keep = std::move(state)] {});
      fail(e);
    }

    boost::asio::any_io_executor ex;
    std::shared_ptr<State> state;
    Task* task;
    decltype(fail_loudly(std::string())) fail;
  };

  static boost::asio::awaitable<void> run(Task* t, boost::asio::awaitable<void> task) {
    if (t->cancelled) co_return;
    t->started = true;
    co_await until_cancelled(std::move(task));
  }

  boost::asio::any_io_executor ex_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace wibwob::net

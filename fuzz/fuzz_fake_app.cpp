// libFuzzer target for the fake app's core (fakewibwob/core): IPC requests,
// person actions, dialogs, restarts and workspace files, in any order and
// from any state. The input is a script, one action per line, so the seed
// corpus stays readable:
//
//   >BYTES       one IPC request (the line's bytes plus "\n")
//   F/PATH<TAB>TEXT  a workspace file in the in-memory store
//   o TYPE       a person opens a window      c  a person closes the back-most
//   m / s        a person moves / resizes the front-most
//   f            a person focuses the back-most
//   d            a person dismisses the innermost dialog
//   r            the app restarts              t TEXT  a person types in the chat
//
// Invariants checked after every action (a violation aborts): every reply
// ends in "\n"; live window ids are unique; events carry one gapless seq per
// process; a withheld reply means a dialog is open.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "fakewibwob/core/fake_app.hpp"
#include "fakewibwob/core/workspace.hpp"

namespace fw = wibwob::fakewibwob;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

struct Run {
  std::shared_ptr<fw::MemoryFiles> files = std::make_shared<fw::MemoryFiles>();
  std::unique_ptr<fw::FakeApp> app;
  std::int64_t seq = 0;

  Run() {
    fw::CoreConfig c;
    c.files = files;
    c.terminal = {80, 25};  // small: tile and cascade refuse sooner
    app = std::make_unique<fw::FakeApp>(c);
  }

  void request(std::string_view bytes, std::uint64_t t) {
    const std::size_t dialogs = app->open_dialogs();
    const fw::Response r = app->handle_request(std::string(bytes) + "\n", fw::Millis{static_cast<long>(t)});
    if (r.reply) {
      check(!r.reply->empty() && r.reply->back() == '\n');
    } else {
      check(r.dialog.has_value() && app->open_dialogs() == dialogs + 1);
    }
  }

  void person(char op, std::string_view arg) {
    // Copies: the actions below change the window list.
    const auto& ws = app->desktop().windows();
    const bool any = !ws.empty();
    const std::string front = any ? ws.front().id : "w0";
    const std::string back = any ? ws.back().id : "w0";
    switch (op) {
      case 'o': {
        fw::OpenSpec s;
        s.type = std::string(arg);
        s.path = "/p";
        s.text = "t";
        (void)app->open(s, arg.size() % 2 == 0);
        break;
      }
      case 'c': check(app->person_close(back) == any); break;
      case 'm': (void)app->person_move(front, static_cast<std::int32_t>(arg.size()) - 3, 1); break;
      case 's': (void)app->person_resize(front, static_cast<std::int32_t>(arg.size()), 2); break;
      case 'f': (void)app->person_focus(back); break;
      case 'd': {
        const std::size_t before = app->open_dialogs();
        const auto d = app->dismiss_dialog();
        check(d.has_value() == (before > 0));
        if (d) check(!d->reply.empty() && d->reply.back() == '\n');
        break;
      }
      case 'r':
        app->restart();
        seq = 0;
        break;
      case 't': app->type_chat(std::string(arg)); break;
      default: break;
    }
  }

  void invariants() {
    for (const auto& e : app->take_events()) check(e.seq == ++seq);
    std::set<std::string> ids;
    for (const auto& w : app->desktop().windows()) check(ids.insert(w.id).second);
    (void)app->get_state_line();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  Run run;
  std::uint64_t t = 0;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (line.empty()) continue;
    const char op = line[0];
    const std::string_view arg = line.substr(1);
    t += 20;
    if (op == '>') {
      run.request(arg, t);
    } else if (op == 'F') {
      const auto tab = arg.find('\t');
      if (tab != std::string_view::npos) run.files->files[std::string(arg.substr(0, tab))] = std::string(arg.substr(tab + 1));
    } else {
      run.person(op, arg.empty() ? arg : arg.substr(arg.front() == ' ' ? 1 : 0));
    }
    run.invariants();
  }
  return 0;
}

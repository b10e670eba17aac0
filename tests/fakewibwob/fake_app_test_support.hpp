// Helpers shared by the fake app's core tests (no test logic): one request
// through a FakeApp as a client sends it, and small constructors.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "fakewibwob/core/fake_app.hpp"

namespace wibwob::fakewibwob::test {

// One request's outcome: the response and the events it fired.
struct Exchange {
  Response response;
  std::vector<protocol::ipc::Event> events;
  std::string reply() const { return response.reply.value_or("<withheld>"); }
};

inline Exchange send(FakeApp& app, std::string_view line, Millis now = Millis{0}) {
  Exchange x;
  x.response = app.handle_request(line, now);
  x.events = app.take_events();
  return x;
}

inline protocol::ipc::Event ev(std::int64_t seq, const char* name, const char* id) {
  return protocol::ipc::Event{seq, name, protocol::ipc::Json{{"id", id}}};
}

inline OpenSpec spec_of(std::string type) {
  OpenSpec s;
  s.type = std::move(type);
  return s;
}

// get_state as a client parses it (a failed parse fails the test).
inline protocol::ipc::AppState state_of(const FakeApp& app) {
  auto s = protocol::ipc::parse_get_state(app.get_state_line());
  EXPECT_TRUE(s.ok());
  return s.ok() ? *s : protocol::ipc::AppState{};
}

}  // namespace wibwob::fakewibwob::test

// Shared test support: rapidcheck generators for the protocol types. Helpers
// only; no assertions or test logic here. (child_process.hpp: a binary under
// test as a child process; io_test_support.hpp: the async harness.)
#pragma once

#include <string>

#include <rapidcheck.h>

#include "protocol/window.hpp"

namespace wibwob::test {

// Generators. Ids come from a small alphabet so that generated layouts
// overlap often (updates, removes of existing ids, replacements).
rc::Gen<std::string> gen_window_id();
rc::Gen<std::string> gen_synced_type();     // a known, non-internal type
rc::Gen<protocol::Window> gen_window();      // valid synced window, extra = {}
rc::Gen<protocol::Window> gen_window_with_extra();
rc::Gen<protocol::Layout> gen_layout();      // 0..12 synced windows
rc::Gen<protocol::Delta> gen_delta();        // arbitrary well-formed delta
// JSON values of any shape (for hostile-input properties), depth-bounded.
rc::Gen<nlohmann::json> gen_json(int depth = 3);

}  // namespace wibwob::test

// Time as the pure cores see it: a duration since any fixed origin. The I/O
// shells feed the steady clock's time since start; the simulator feeds
// virtual time. Nothing in a core reads a clock itself.
#pragma once

#include <chrono>

namespace wibwob {

using Ms = std::chrono::milliseconds;

}  // namespace wibwob

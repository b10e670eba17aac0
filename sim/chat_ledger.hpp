// ChatLedger: the simulator's bookkeeping of every room chat line, from the
// person typing it on one instance to its appearance in every other
// instance's room_chat window. Pure bookkeeping: the simulation reports what
// happened to lines (read by a bridge, sent, reached the server, relayed,
// delivered, shown) and what happened to instances (app crash, bridge
// restart, connection drop); the ledger decides where each line is and why a
// line that never arrives was lost.
//
// A line may be lost only for a reason outside the bridge's control, and each
// reason is counted (ChatCounts): the app crashed before its bridge read the
// line, a bridge restart lost what that bridge held, a connection dropped
// with the frame in flight, or the recipient was not connected when the
// server relayed it (the server keeps no chat history). Everything else is a
// failure: a line shown twice, shown out of order per sender, or never shown
// though it reached its recipient's bridge.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/simulator.hpp"

namespace wibwob::sim {

class ChatLedger {
 public:
  explicit ChatLedger(int instances) : instances_(instances), last_shown_(static_cast<std::size_t>(instances)) {}

  // A person typed a line on `sender`; returns its text (unique per run).
  std::string typed(int sender);
  // The app of `inst` crashed: lines still in its pending queue are lost.
  void app_crashed(int inst, const std::vector<std::string>& pending);
  // The bridge of `inst` read these lines with room_chat_pending.
  void read(int inst, const std::vector<std::string>& texts);
  // The bridge of `inst` wrote a chat frame; `connected`: there was a connection to write it on.
  void sent(int inst, const std::string& text, bool connected);
  // The room server got the line and relayed it to `recipients`.
  void at_server(const std::string& text, const std::vector<int>& recipients);
  // The relayed frame reached the recipient's bridge.
  void delivered(int inst, const std::string& text);
  // The recipient's bridge dropped the line it was given: over its chat
  // rate bound (--max-chat-per-second; a burst, e.g. after a long outage).
  void dropped_over_rate(int inst, const std::string& text);
  // The recipient's app answered room_chat_receive for this line.
  void shown(int inst, const std::string& text, bool ok);
  void bridge_restarted(int inst);
  void connection_dropped(int inst);

  // Every line has reached its end (shown, refused or lost).
  bool settled() const;
  // A description of the first line that has not, for "not quiescent".
  std::string unsettled() const;
  const ChatCounts& counts() const noexcept { return counts_; }
  // The first failure seen (duplicate, out of order), empty if none.
  const std::string& failure() const noexcept { return failure_; }

 private:
  enum class Up { app, read, sent, server, lost };
  enum class Down { relayed, engine, shown, refused, lost };
  struct Line {
    int sender = 0;
    std::uint64_t n = 0;
    Up at = Up::app;
    std::map<int, Down> copies;  // recipient -> where its copy is
  };
  Line* find(const std::string& text);
  void lose_up(Line& l, std::uint64_t ChatCounts::*counter);
  void fail(std::string why);

  int instances_;
  std::map<std::string, Line> lines_;
  std::vector<std::uint64_t> next_n_;
  std::vector<std::map<int, std::uint64_t>> last_shown_;  // recipient -> sender -> n
  ChatCounts counts_;
  std::string failure_;
};

}  // namespace wibwob::sim

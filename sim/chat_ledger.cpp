#include "sim/chat_ledger.hpp"

namespace wibwob::sim {

std::string ChatLedger::typed(int sender) {
  if (next_n_.size() < static_cast<std::size_t>(instances_)) next_n_.resize(static_cast<std::size_t>(instances_), 0);
  const std::uint64_t n = ++next_n_[static_cast<std::size_t>(sender)];
  std::string text = "line " + std::to_string(n) + " from i" + std::to_string(sender);
  lines_[text] = Line{sender, n, Up::app, {}};
  ++counts_.typed;
  return text;
}

ChatLedger::Line* ChatLedger::find(const std::string& text) {
  auto it = lines_.find(text);
  return it == lines_.end() ? nullptr : &it->second;
}

void ChatLedger::fail(std::string why) {
  if (failure_.empty()) failure_ = std::move(why);
}

void ChatLedger::lose_up(Line& l, std::uint64_t ChatCounts::*counter) {
  l.at = Up::lost;
  ++(counts_.*counter);
}

void ChatLedger::app_crashed(int inst, const std::vector<std::string>& pending) {
  for (const auto& t : pending)
    if (Line* l = find(t); l && l->sender == inst && l->at == Up::app) lose_up(*l, &ChatCounts::lost_app_crash);
}

void ChatLedger::read(int inst, const std::vector<std::string>& texts) {
  for (const auto& t : texts) {
    Line* l = find(t);
    if (!l || l->sender != inst) continue;  // not typed by a simulated person
    if (l->at != Up::app) fail("bridge of i" + std::to_string(inst) + " read '" + t + "' twice from its app");
    l->at = Up::read;
  }
}

void ChatLedger::sent(int inst, const std::string& text, bool connected) {
  Line* l = find(text);
  if (!l) return;
  if (l->at != Up::read) return fail("i" + std::to_string(inst) + " sent '" + text + "' to the room again");
  if (connected) {
    l->at = Up::sent;
  } else {
    lose_up(*l, &ChatCounts::lost_in_drop);
  }
}

void ChatLedger::at_server(const std::string& text, const std::vector<int>& recipients) {
  Line* l = find(text);
  if (!l) return;
  if (l->at != Up::sent) return fail("the room got '" + text + "' twice");
  l->at = Up::server;
  ++counts_.reached_server;
  for (int r : recipients) l->copies[r] = Down::relayed;
  counts_.missed_offline += static_cast<std::uint64_t>(instances_ - 1) - recipients.size();
}

void ChatLedger::delivered(int inst, const std::string& text) {
  Line* l = find(text);
  if (!l) return;
  auto c = l->copies.find(inst);
  if (c == l->copies.end() || c->second != Down::relayed)
    return fail("i" + std::to_string(inst) + " received '" + text + "' from the room without a relay");
  c->second = Down::engine;
}

void ChatLedger::dropped_over_rate(int inst, const std::string& text) {
  Line* l = find(text);
  if (!l) return;
  auto c = l->copies.find(inst);
  if (c == l->copies.end() || c->second != Down::engine) return;
  c->second = Down::lost;
  ++counts_.over_rate;
}

void ChatLedger::shown(int inst, const std::string& text, bool ok) {
  Line* l = find(text);
  if (!l) return fail("i" + std::to_string(inst) + "'s app was given a chat line nobody typed: '" + text + "'");
  auto c = l->copies.find(inst);
  if (c == l->copies.end()) return fail("i" + std::to_string(inst) + "'s app was given '" + text + "', never relayed to it");
  if (c->second == Down::shown || c->second == Down::refused)
    return fail("i" + std::to_string(inst) + "'s app was given '" + text + "' twice");
  if (c->second != Down::engine)
    return fail("i" + std::to_string(inst) + "'s app was given '" + text + "' by a bridge that did not hold it");
  c->second = ok ? Down::shown : Down::refused;
  ++(ok ? counts_.shown : counts_.refused_by_app);
  auto& last = last_shown_[static_cast<std::size_t>(inst)][l->sender];
  if (l->n < last)
    fail("i" + std::to_string(inst) + "'s app was given '" + text + "' after line " + std::to_string(last) +
         " of the same sender (out of order)");
  last = std::max(last, l->n);
}

void ChatLedger::bridge_restarted(int inst) {
  for (auto& [t, l] : lines_) {
    if (l.sender == inst && (l.at == Up::read || l.at == Up::sent)) lose_up(l, &ChatCounts::lost_bridge_restart);
    auto c = l.copies.find(inst);
    if (c != l.copies.end() && (c->second == Down::relayed || c->second == Down::engine)) {
      c->second = Down::lost;
      ++counts_.lost_bridge_restart;
    }
  }
}

void ChatLedger::connection_dropped(int inst) {
  for (auto& [t, l] : lines_) {
    if (l.sender == inst && l.at == Up::sent) lose_up(l, &ChatCounts::lost_in_drop);
    auto c = l.copies.find(inst);
    if (c != l.copies.end() && c->second == Down::relayed) {
      c->second = Down::lost;
      ++counts_.lost_in_drop;
    }
  }
}

bool ChatLedger::settled() const { return unsettled().empty(); }

std::string ChatLedger::unsettled() const {
  static const char* const up_names[] = {"in its app", "read by its bridge", "sent", "at the server", "lost"};
  for (const auto& [t, l] : lines_) {
    if (l.at != Up::server && l.at != Up::lost) return "'" + t + "' is " + up_names[static_cast<int>(l.at)];
    for (const auto& [r, c] : l.copies)
      if (c == Down::relayed || c == Down::engine)
        return "'" + t + "' is " + (c == Down::relayed ? "on its way to" : "held by the bridge of") + " i" +
               std::to_string(r) + " but not shown";
  }
  return {};
}

}  // namespace wibwob::sim

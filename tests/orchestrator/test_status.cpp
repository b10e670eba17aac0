// `wibwob-rooms status`, the pure part (orchestrator/core/status.hpp): the
// bridge's status answer parsed strictly, health, the line and the JSON.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "orchestrator/core/status.hpp"

using namespace wibwob::orchestrator;
using Json = nlohmann::json;

namespace {

const char* kGood =
    R"({"connected":true,"synced":true,"room_version":17,"windows_synced":3,"pending_deltas":0,)"
    R"("not_created":[{"id":"i1:w4","reason":"path outside the allowed folders"}],"held_over_bound":0,)"
    R"("ipc_errors":2,"room_errors":0,"last_error":null,"uptime_s":245.5,"origin":"b-41",)"
    R"("room_url":"ws://127.0.0.1:1999/parties/main/shared"})"
    "\n";

RoomStatus multiplayer_room() {
  RoomStatus r;
  r.room_id = "shared";
  r.instance_id = 41;
  r.multiplayer = true;
  r.app_socket = "/run/x/wibwob_41.sock";
  r.app_up = true;
  r.bridge_socket = "/run/x/wibwob_41.bridge.sock";
  r.bridge = RoomStatus::Bridge::ok;
  r.status = *parse_bridge_status(kGood);
  r.app_log = "rooms/logs/shared.app.log";
  r.bridge_log = "rooms/logs/shared.bridge.log";
  return r;
}

}  // namespace

TEST(OrchStatus, BridgeStatusPathReplacesTheSockSuffix) {
  EXPECT_EQ(bridge_status_path("/tmp/wibwob_2.sock"), "/tmp/wibwob_2.bridge.sock");
  EXPECT_EQ(bridge_status_path("/run/a.sock.d/wibwob_10.sock"), "/run/a.sock.d/wibwob_10.bridge.sock");
  EXPECT_EQ(bridge_status_path("/tmp/odd"), "/tmp/odd.bridge.sock");
}

TEST(OrchStatus, ParsesTheContractsKeys) {
  auto s = parse_bridge_status(kGood);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->connected);
  EXPECT_TRUE(s->synced);
  EXPECT_EQ(s->room_version, 17);
  EXPECT_EQ(s->windows_synced, 3);
  ASSERT_EQ(s->not_created.size(), 1u);
  EXPECT_EQ(s->not_created[0], (NotCreated{"i1:w4", "path outside the allowed folders"}));
  EXPECT_EQ(s->ipc_errors, 2);
  EXPECT_FALSE(s->last_error);
  EXPECT_DOUBLE_EQ(s->uptime_s, 245.5);
  EXPECT_EQ(s->origin, "b-41");
  EXPECT_EQ(s->room_url, "ws://127.0.0.1:1999/parties/main/shared");

  Json j = Json::parse(std::string(kGood));
  j["room_version"] = nullptr;
  j["last_error"] = "room: connection refused";
  j["extra_key_from_a_newer_bridge"] = 1;
  auto t = parse_bridge_status(j.dump());
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_FALSE(t->room_version);
  EXPECT_EQ(t->last_error, "room: connection refused");
}

TEST(OrchStatus, RefusesAnswersOutsideTheContractWithTheKeyNamed) {
  const Json good = Json::parse(std::string(kGood));
  auto error_for = [](const std::string& text) {
    auto r = parse_bridge_status(text);
    return r.ok() ? std::string("(accepted)") : r.error().message;
  };
  Json missing = good;
  missing.erase("synced");
  EXPECT_EQ(error_for(missing.dump()), "missing key 'synced'");
  Json wrong = good;
  wrong["connected"] = "yes";
  EXPECT_EQ(error_for(wrong.dump()), "'connected' is not true or false");
  wrong = good;
  wrong["uptime_s"] = "5";
  EXPECT_EQ(error_for(wrong.dump()), "'uptime_s' is not a number");
  wrong = good;
  wrong["windows_synced"] = 2.5;
  EXPECT_EQ(error_for(wrong.dump()), "'windows_synced' is not an integer");
  wrong = good;
  wrong["not_created"] = Json::array({Json::object({{"id", 3}})});
  EXPECT_NE(error_for(wrong.dump()).find("'not_created' has an entry"), std::string::npos);
  EXPECT_EQ(error_for(""), "empty answer");
  EXPECT_EQ(error_for("[1,2]"), "not a JSON object: [1,2]");
  EXPECT_EQ(error_for("HTTP/1.1 200 OK\r\n"), "not JSON: HTTP/1.1 200 OK?");
  EXPECT_NE(error_for(std::string(10000, '[')).find("not JSON: [[[["), std::string::npos);
  EXPECT_NE(error_for(std::string("{\"a\":\"\0\"}", 9)).find("not JSON"), std::string::npos);
}

TEST(OrchStatus, HealthyNeedsTheAppAndAConnectedSyncedBridge) {
  RoomStatus r = multiplayer_room();
  EXPECT_TRUE(healthy(r));
  r.status->synced = false;
  EXPECT_FALSE(healthy(r));
  r = multiplayer_room();
  r.status->connected = false;
  EXPECT_FALSE(healthy(r));
  r = multiplayer_room();
  r.app_up = false;
  EXPECT_FALSE(healthy(r));
  r = multiplayer_room();
  r.bridge = RoomStatus::Bridge::bad_status;
  EXPECT_FALSE(healthy(r));
  RoomStatus solo;
  solo.app_up = true;
  EXPECT_TRUE(healthy(solo));
}

TEST(OrchStatus, OneLinePerRoom) {
  EXPECT_EQ(status_line(multiplayer_room()),
            "shared (instance 41): ok; app up; bridge connected, synced, room version 17, 3 windows, 0 pending, 1 not "
            "creatable here, errors: 2 IPC, 0 room, up 4m05s, last error: none");
  RoomStatus r = multiplayer_room();
  r.app_up = false;
  r.app_error = "/run/x/wibwob_41.sock: Connection refused";
  r.bridge = RoomStatus::Bridge::not_running;
  r.bridge_error = "/run/x/wibwob_41.bridge.sock: No such file or directory";
  EXPECT_EQ(status_line(r),
            "shared (instance 41): UNHEALTHY; app DOWN (/run/x/wibwob_41.sock: Connection refused); bridge not "
            "running (/run/x/wibwob_41.bridge.sock: No such file or directory)");
  r.app_up = true;
  r.bridge = RoomStatus::Bridge::bad_status;
  r.bridge_error = "not JSON: \x1b[2Jgarbage";  // a terminal escape never reaches the terminal
  EXPECT_EQ(status_line(r), "shared (instance 41): UNHEALTHY; app up; bridge: bad status (not JSON: ?[2Jgarbage)");
  r = multiplayer_room();
  r.status->connected = false;
  r.status->synced = false;
  r.status->room_version.reset();
  r.status->not_created.clear();
  r.status->ipc_errors = 0;
  r.status->last_error = "room: connect: Connection refused";
  r.status->uptime_s = 7384;
  EXPECT_EQ(status_line(r),
            "shared (instance 41): UNHEALTHY; app up; bridge NOT connected, NOT synced, room version none, 3 "
            "windows, 0 pending, up 2h03m, last error: room: connect: Connection refused");
  RoomStatus solo;
  solo.room_id = "solo";
  solo.instance_id = 42;
  solo.app_up = true;
  EXPECT_EQ(status_line(solo), "solo (instance 42): ok; app up; single-player (no bridge)");
}

TEST(OrchStatus, UptimeIsShort) {
  EXPECT_EQ(format_uptime(0), "0s");
  EXPECT_EQ(format_uptime(59.9), "59s");
  EXPECT_EQ(format_uptime(60), "1m00s");
  EXPECT_EQ(format_uptime(3600 * 5 + 61), "5h01m");
  EXPECT_EQ(format_uptime(86400 * 3 + 3600 * 4), "3d04h");
  EXPECT_EQ(format_uptime(-5), "0s");
  EXPECT_EQ(format_uptime(1e300), "11574074d01h");  // clamped, no overflow
}

// The JSON is parsed by scripts: one array, the same keys for every room in
// every state, in a fixed order.
TEST(OrchStatus, JsonHasStableKeysInEveryState) {
  RoomStatus down = multiplayer_room();
  down.app_up = false;
  down.app_error = "gone";
  down.bridge = RoomStatus::Bridge::not_running;
  down.bridge_error = "no socket";
  down.status.reset();
  RoomStatus solo;
  solo.room_id = "solo";
  solo.app_up = true;
  const Json j = Json::parse(status_json({multiplayer_room(), down, solo}));
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 3u);
  const std::vector<std::string> room_keys = {"room_id", "instance_id", "multiplayer", "healthy", "app", "bridge"};
  const std::vector<std::string> bridge_keys = {"socket",         "state",          "error",       "log",
                                                "connected",      "synced",         "room_version", "windows_synced",
                                                "pending_deltas", "not_created",    "held_over_bound",
                                                "ipc_errors",     "room_errors",    "last_error",  "uptime_s",
                                                "origin",         "room_url"};
  auto keys = [](const Json& o) {
    std::vector<std::string> k;
    for (auto it = o.begin(); it != o.end(); ++it) k.push_back(it.key());
    std::sort(k.begin(), k.end());
    return k;
  };
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  for (const auto& room : j) EXPECT_EQ(keys(room), sorted(room_keys)) << room.dump();
  EXPECT_EQ(keys(j[0]["bridge"]), sorted(bridge_keys));
  EXPECT_EQ(keys(j[1]["bridge"]), sorted(bridge_keys));
  EXPECT_TRUE(j[2]["bridge"].is_null());

  EXPECT_EQ(j[0]["healthy"], true);
  EXPECT_EQ(j[0]["bridge"]["state"], "ok");
  EXPECT_EQ(j[0]["bridge"]["room_version"], 17);
  EXPECT_EQ(j[0]["bridge"]["not_created"][0]["reason"], "path outside the allowed folders");
  EXPECT_EQ(j[0]["app"]["log"], "rooms/logs/shared.app.log");
  EXPECT_EQ(j[1]["healthy"], false);
  EXPECT_EQ(j[1]["app"]["error"], "gone");
  EXPECT_EQ(j[1]["bridge"]["state"], "not_running");
  EXPECT_EQ(j[1]["bridge"]["error"], "no socket");
  EXPECT_TRUE(j[1]["bridge"]["connected"].is_null());
  // Key order as documented: the room's own keys first.
  EXPECT_TRUE(status_json({solo}).starts_with(R"([{"room_id":"solo","instance_id":0,"multiplayer":false,)"));
  EXPECT_TRUE(status_json({}) == "[]\n");
}

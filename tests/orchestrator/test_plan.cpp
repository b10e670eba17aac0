// Spawn plan and command templates (orchestrator/core/plan.hpp).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "orchestrator/core/plan.hpp"

using namespace wibwob::orchestrator;

namespace {

Room room(std::string id, int inst, bool mp) {
  Room r;
  r.source = id + ".md";
  r.room_id = id;
  r.display_name = "Room " + id;
  r.instance_id = inst;
  r.ttyd_port = 7680 + inst;
  r.multiplayer = mp;
  if (mp) {
    r.partykit_room = "pk-" + id;
    r.partykit_server = "https://rooms.example.dev";
  }
  return r;
}

CommandTemplate tpl(const std::string& s) {
  auto t = parse_command_template(s);
  EXPECT_TRUE(t.ok()) << s;
  return t.ok() ? *t : CommandTemplate{};
}

Plan two_rooms() {
  PlanOptions o;
  o.socket_dir = "/run/test/";
  o.app_command = tpl("fakewibwob --socket {socket} --ui-tick-ms 0");
  o.bridge_command = tpl("/opt/bin/wibwob-bridge --socket {socket}");
  return make_plan({room("shared", 2, true), room("solo", 3, false)}, o);
}

const std::string* find(const std::vector<EnvVar>& env, const std::string& k) {
  for (const auto& [key, v] : env)
    if (key == k) return &v;
  return nullptr;
}

}  // namespace

TEST(OrchPlan, MultiplayerRoomsGetABridge) {
  const Plan p = two_rooms();
  ASSERT_EQ(p.rooms.size(), 2u);
  EXPECT_TRUE(p.rooms[0].bridge);
  EXPECT_FALSE(p.rooms[1].bridge);
  EXPECT_EQ(p.rooms[0].socket_path, "/run/test/wibwob_2.sock");
}

TEST(OrchPlan, BridgeEnvironmentIsTheContract) {
  const Plan p = two_rooms();
  const Launch b = bridge_launch(p, 0, "s3cret");
  EXPECT_EQ(b.argv, (std::vector<std::string>{"/opt/bin/wibwob-bridge", "--socket", "/run/test/wibwob_2.sock"}));
  ASSERT_EQ(b.set.size(), 4u);
  EXPECT_EQ(*find(b.set, "WIBWOB_INSTANCE"), "2");
  EXPECT_EQ(*find(b.set, "WIBWOB_AUTH_SECRET"), "s3cret");
  EXPECT_EQ(*find(b.set, "WIBWOB_PARTYKIT_URL"), "https://rooms.example.dev");
  EXPECT_EQ(*find(b.set, "WIBWOB_PARTYKIT_ROOM"), "pk-shared");
}

TEST(OrchPlan, AppsGetInstanceAndSecretButNoPartyKitVariables) {
  const Plan p = two_rooms();
  for (std::size_t i = 0; i < 2; ++i) {
    const Launch a = app_launch(p, i, "abc");
    EXPECT_EQ(*find(a.set, "WIBWOB_INSTANCE"), std::to_string(p.rooms[i].room.instance_id));
    EXPECT_EQ(*find(a.set, "WIBWOB_AUTH_SECRET"), "abc");
    EXPECT_EQ(find(a.set, "WIBWOB_PARTYKIT_URL"), nullptr);
    EXPECT_EQ(find(a.set, "WIBWOB_PARTYKIT_ROOM"), nullptr);
    EXPECT_EQ(a.unset, (std::vector<std::string>{"WIBWOB_PARTYKIT_URL", "WIBWOB_PARTYKIT_ROOM"}));
  }
  EXPECT_EQ(app_launch(p, 1, "abc").argv,
            (std::vector<std::string>{"fakewibwob", "--socket", "/run/test/wibwob_3.sock", "--ui-tick-ms", "0"}));
}

TEST(OrchPlan, DescribeShowsEverythingButTheSecret) {
  const std::string d = describe(two_rooms());
  EXPECT_NE(d.find("2 room(s), 1 with a bridge"), std::string::npos) << d;
  EXPECT_NE(d.find("WIBWOB_PARTYKIT_URL=https://rooms.example.dev"), std::string::npos);
  EXPECT_NE(d.find("WIBWOB_PARTYKIT_ROOM=pk-shared"), std::string::npos);
  EXPECT_NE(d.find("WIBWOB_AUTH_SECRET=<fresh"), std::string::npos);
  EXPECT_NE(d.find("multiplayer: no (no bridge)"), std::string::npos);
  EXPECT_EQ(d.find("WIBWOB_AUTH_SECRET=x"), std::string::npos);
}

TEST(OrchPlan, LogFilesAreNamedPerRoomAndRoleAndShownInThePlan) {
  Plan p = two_rooms();
  EXPECT_EQ(log_path_for(p, 0, "app"), "");  // no log dir: inherited output
  EXPECT_EQ(describe(p).find("log:"), std::string::npos);
  p.options.log_dir = "/var/lib/rooms/logs//";
  EXPECT_EQ(log_path_for(p, 0, "app"), "/var/lib/rooms/logs/shared.app.log");
  EXPECT_EQ(log_path_for(p, 0, "bridge"), "/var/lib/rooms/logs/shared.bridge.log");
  EXPECT_EQ(log_path_for(p, 1, "app"), "/var/lib/rooms/logs/solo.app.log");
  p.options.log_dir = "/";
  EXPECT_EQ(log_path_for(p, 1, "app"), "/solo.app.log");
  p.options.log_dir = "logs";
  const std::string d = describe(p);
  EXPECT_NE(d.find("  app: fakewibwob --socket /run/test/wibwob_2.sock --ui-tick-ms 0\n    log: logs/shared.app.log\n"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("    log: logs/shared.bridge.log\n"), std::string::npos) << d;
  EXPECT_EQ(d.find("solo.bridge.log"), std::string::npos) << d;
}

TEST(OrchPlan, TemplatesSubstituteWholeValuesAsOneArgument) {
  Room r = room("a b", 4, true);
  r.display_name = "two words; rm -rf /";
  r.layout_path = "/p/l.json";
  const auto argv = expand(tpl("app --name={display_name} {layout_path} x{instance_id}y {{lit}} {ttyd_port} "
                               "{room_id} {partykit_room} {partykit_server}"),
                           r, "/s/w.sock");
  EXPECT_EQ(argv, (std::vector<std::string>{"app", "--name=two words; rm -rf /", "/p/l.json", "x4y", "{lit}", "7684",
                                            "a b", "pk-a b", "https://rooms.example.dev"}));
}

TEST(OrchPlan, BadTemplatesAreRejected) {
  EXPECT_FALSE(parse_command_template("").ok());
  EXPECT_FALSE(parse_command_template("   \t ").ok());
  EXPECT_FALSE(parse_command_template("app {instance}").ok());
  EXPECT_FALSE(parse_command_template("app {socket").ok());
  EXPECT_FALSE(parse_command_template("app socket}").ok());
  EXPECT_FALSE(parse_command_template(std::string("app\0x", 5)).ok());
  EXPECT_FALSE(parse_command_template(std::string(20000, 'a')).ok());
  const auto e = parse_command_template("app {nope}");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("unknown placeholder {nope}"), std::string::npos);
}

RC_GTEST_PROP(OrchPlan, TemplateParserSurvivesAnything, (const std::string& s)) {
  auto t = parse_command_template(s);
  if (t.ok()) {
    RC_ASSERT(!t->words.empty());
    (void)expand(*t, room("r", 1, true), "/s");
  }
}

TEST(OrchPlan, SecretsAre32BytesInHex) {
  auto s = secret_from_bytes(std::string(32, '\xab'));
  ASSERT_TRUE(s.ok());
  std::string expected;
  for (int i = 0; i < 32; ++i) expected += "ab";
  EXPECT_EQ(*s, expected);
  EXPECT_EQ(s->size(), 64u);
  EXPECT_FALSE(secret_from_bytes("short").ok());
}

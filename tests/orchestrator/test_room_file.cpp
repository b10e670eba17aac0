// Room files (orchestrator/core/room_file.hpp): every rule of
// shared/spec/rooms.md, the errors' wording and lines, hostile input.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "orchestrator/core/room_file.hpp"

using namespace wibwob::orchestrator;

namespace {

const char* kSpecExample = R"(---
room_id: wibwob-shared
display_name: WibWob Shared Space
instance_id: 2
ttyd_port: 7682
layout_path: workspaces/last_workspace.json
api_key_source: env
max_visitors: 2
multiplayer: true
partykit_room: wibwob-shared
partykit_server: https://wibwob-rooms.example.partykit.dev
max_players: 2
---

# WibWob Shared Space
## System Prompt
...
)";

std::string minimal(const std::string& extra = "") {
  return "---\nroom_id: solo\ninstance_id: 1\nttyd_port: 7681\n" + extra + "---\nbody\n";
}

std::string errors(const RoomFileResult& r) {
  std::string s;
  for (const auto& d : r.diagnostics)
    if (d.is_error()) s += format(d) + "\n";
  return s;
}

// The file fails and some error message contains `needle`; returns that diagnostic.
Diagnostic expect_error(const std::string& text, const std::string& needle) {
  const auto r = parse_room_file("rooms/t.md", text);
  EXPECT_FALSE(r.ok()) << "accepted:\n" << text;
  for (const auto& d : r.diagnostics)
    if (d.is_error() && d.message.find(needle) != std::string::npos) return d;
  ADD_FAILURE() << "no error containing '" << needle << "' in:\n" << errors(r) << "for:\n" << text;
  return {};
}

}  // namespace

TEST(OrchRoomFile, SpecExampleParses) {
  const auto r = parse_room_file("rooms/shared.md", kSpecExample);
  ASSERT_TRUE(r.ok()) << errors(r);
  const Room& room = *r.room;
  EXPECT_EQ(room.room_id, "wibwob-shared");
  EXPECT_EQ(room.display_name, "WibWob Shared Space");
  EXPECT_EQ(room.instance_id, 2);
  EXPECT_EQ(room.ttyd_port, 7682);
  EXPECT_EQ(room.layout_path, "workspaces/last_workspace.json");
  EXPECT_EQ(room.api_key_source, ApiKeySource::env);
  EXPECT_EQ(room.max_visitors, 2);
  EXPECT_TRUE(room.multiplayer);
  EXPECT_EQ(room.partykit_room, "wibwob-shared");
  EXPECT_EQ(room.partykit_server, "https://wibwob-rooms.example.partykit.dev");
  EXPECT_EQ(room.max_players, 2);
  EXPECT_EQ(room.source, "rooms/shared.md");
  EXPECT_NE(room.body.find("## System Prompt"), std::string::npos);
  EXPECT_TRUE(r.diagnostics.empty());
}

TEST(OrchRoomFile, DefaultsApply) {
  const auto r = parse_room_file("a.md", minimal());
  ASSERT_TRUE(r.ok()) << errors(r);
  EXPECT_EQ(r.room->display_name, "solo");
  EXPECT_EQ(r.room->api_key_source, ApiKeySource::env);
  EXPECT_EQ(r.room->max_visitors, 1);
  EXPECT_FALSE(r.room->multiplayer);
  EXPECT_EQ(r.room->max_players, 2);
  EXPECT_FALSE(r.room->layout_path);
  EXPECT_TRUE(r.room->preload_files.empty());
  EXPECT_EQ(r.room->body, "body\n");
}

TEST(OrchRoomFile, OptionalFieldsAndVariants) {
  const auto r = parse_room_file("a.md", "---\r\nroom_id: x\r\ninstance_id: +7\r\nttyd_port: 1024\r\n"
                                         "api_key_source: visitor_dialog\r\npreload_files:\r\n  - a.txt\r\n  - b.txt\r\n"
                                         "multiplayer: no\r\nlayout_path: ~\r\n...\r\n");
  ASSERT_TRUE(r.ok()) << errors(r);
  EXPECT_EQ(r.room->instance_id, 7);
  EXPECT_EQ(r.room->ttyd_port, 1024);
  EXPECT_EQ(r.room->api_key_source, ApiKeySource::visitor_dialog);
  EXPECT_EQ(r.room->preload_files, (std::vector<std::string>{"a.txt", "b.txt"}));
  EXPECT_FALSE(r.room->multiplayer);
  EXPECT_FALSE(r.room->layout_path);  // null is absent
  EXPECT_TRUE(parse_room_file("a.md", minimal("api_key_source: host_config\n")).ok());
  EXPECT_TRUE(parse_room_file("a.md", minimal("ttyd_port2: 1\n")).diagnostics.size() == 1);
}

TEST(OrchRoomFile, MustStartWithDashes) {
  expect_error("room_id: x\n---\n", "must start with a `---` line");
  expect_error("\n---\nroom_id: x\n---\n", "must start with a `---` line");
  expect_error(" ---\nroom_id: x\n---\n", "must start with a `---` line");
  expect_error("", "must start with a `---` line");
  expect_error("\xEF\xBB\xBF---\nroom_id: x\n---\n", "byte-order mark");
  expect_error("---\nroom_id: x\ninstance_id: 1\n", "not closed");
  expect_error("---", "not closed");
}

TEST(OrchRoomFile, FrontmatterMustBeAMapping) {
  expect_error("---\n---\n", "frontmatter is empty");
  expect_error("---\n- a\n- b\n---\n", "must be a YAML mapping");
  expect_error("---\njust a string\n---\n", "must be a YAML mapping");
}

TEST(OrchRoomFile, RequiredFields) {
  expect_error("---\ninstance_id: 1\nttyd_port: 7681\n---\n", "missing required field 'room_id'");
  expect_error("---\nroom_id: x\nttyd_port: 7681\n---\n", "missing required field 'instance_id'");
  expect_error("---\nroom_id: x\ninstance_id: 1\n---\n", "missing required field 'ttyd_port'");
  const auto d = expect_error("---\nroom_id:\ninstance_id: 1\nttyd_port: 7681\n---\n", "missing required field 'room_id'");
  EXPECT_EQ(d.line, 2);
  // All three missing: three errors, not one.
  const auto r = parse_room_file("a.md", "---\ndisplay_name: x\n---\n");
  EXPECT_EQ(std::count_if(r.diagnostics.begin(), r.diagnostics.end(), [](auto& x) { return x.is_error(); }), 3);
}

TEST(OrchRoomFile, YamlBoolIsNotAnInteger) {
  for (const char* b : {"true", "false", "yes", "no", "on", "off", "True", "NO"}) {
    const auto d = expect_error("---\nroom_id: x\ninstance_id: " + std::string(b) + "\nttyd_port: 7681\n---\n",
                                "a YAML bool is not an integer");
    EXPECT_EQ(d.line, 3) << b;
    EXPECT_NE(d.message.find("instance_id"), std::string::npos);
  }
  expect_error(minimal("max_visitors: true\n"), "a YAML bool is not an integer");
}

TEST(OrchRoomFile, IntegerRules) {
  expect_error("---\nroom_id: x\ninstance_id: \"2\"\nttyd_port: 7681\n---\n", "quoted string");
  expect_error("---\nroom_id: x\ninstance_id: 2.5\nttyd_port: 7681\n---\n", "decimal integer");
  expect_error("---\nroom_id: x\ninstance_id: 0x10\nttyd_port: 7681\n---\n", "decimal integer");
  expect_error("---\nroom_id: x\ninstance_id: -+\nttyd_port: 7681\n---\n", "decimal integer");
  expect_error("---\nroom_id: x\ninstance_id: 1_000\nttyd_port: 7681\n---\n", "decimal integer");
  expect_error("---\nroom_id: x\ninstance_id: -1\nttyd_port: 7681\n---\n", "out of range");
  expect_error("---\nroom_id: x\ninstance_id: 99999999999999999999999\nttyd_port: 7681\n---\n", "out of range");
  expect_error("---\nroom_id: x\ninstance_id: [1]\nttyd_port: 7681\n---\n", "got a list");
  expect_error("---\nroom_id: x\ninstance_id: {a: 1}\nttyd_port: 7681\n---\n", "got a mapping");
}

TEST(OrchRoomFile, TtydPortRange) {
  expect_error("---\nroom_id: x\ninstance_id: 1\nttyd_port: 1023\n---\n", "ttyd_port: '1023' is out of range (1024-65535)");
  expect_error("---\nroom_id: x\ninstance_id: 1\nttyd_port: 65536\n---\n", "out of range");
  EXPECT_TRUE(parse_room_file("a", "---\nroom_id: x\ninstance_id: 1\nttyd_port: 65535\n---\n").ok());
}

TEST(OrchRoomFile, ApiKeySourceEnum) {
  expect_error(minimal("api_key_source: environment\n"), "must be one of env, host_config, visitor_dialog");
  expect_error(minimal("api_key_source: [env]\n"), "must be a string");
}

TEST(OrchRoomFile, MaxVisitorsAtLeastOne) {
  expect_error(minimal("max_visitors: 0\n"), "max_visitors");
  EXPECT_TRUE(parse_room_file("a", minimal("max_visitors: 1\n")).ok());
}

TEST(OrchRoomFile, MultiplayerBool) {
  expect_error(minimal("multiplayer: 1\n"), "multiplayer: must be true or false");
  expect_error(minimal("multiplayer: \"true\"\n"), "quoted string");
  expect_error(minimal("multiplayer: [true]\n"), "must be true or false, got a list");
}

TEST(OrchRoomFile, MultiplayerRequirements) {
  expect_error(minimal("multiplayer: true\npartykit_server: https://x.dev\n"), "requires 'partykit_room'");
  expect_error(minimal("multiplayer: true\npartykit_room: r\n"), "requires 'partykit_server'");
  for (const char* url : {"ftp://x.dev", "x.dev", "https://", "not a url", "file:///tmp/x"})
    expect_error(minimal("multiplayer: true\npartykit_room: r\npartykit_server: \"" + std::string(url) + "\"\n"),
                 "partykit_server");
  for (const char* url : {"http://localhost:1999", "https://a.b", "ws://127.0.0.1:1999", "wss://a.b/base"}) {
    const auto r = parse_room_file("a", minimal("multiplayer: true\npartykit_room: r\npartykit_server: " +
                                                std::string(url) + "\n"));
    EXPECT_TRUE(r.ok()) << url << "\n" << errors(r);
  }
  expect_error(minimal("multiplayer: true\npartykit_room: r\npartykit_server: http://a\nmax_players: 1\n"),
               "max_players: must be at least 2");
  expect_error(minimal("multiplayer: true\npartykit_room: a/b\npartykit_server: http://a\n"), "URL path segment");
  // Single player: max_players 1 is fine; PartyKit fields without multiplayer warn.
  EXPECT_TRUE(parse_room_file("a", minimal("max_players: 1\n")).ok());
  const auto w = parse_room_file("a", minimal("partykit_room: r\n"));
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w.diagnostics.size(), 1u);
  EXPECT_FALSE(w.diagnostics[0].is_error());
  EXPECT_NE(w.diagnostics[0].message.find("no bridge"), std::string::npos);
}

TEST(OrchRoomFile, UnknownKeysAreReportedWithASuggestion) {
  const auto d = expect_error(minimal("multiplayr: true\n"), "unknown key 'multiplayr'");
  EXPECT_NE(d.message.find("did you mean 'multiplayer'?"), std::string::npos) << d.message;
  EXPECT_EQ(d.line, 5);
  EXPECT_EQ(format(d), "rooms/t.md:5: error: unknown key 'multiplayr' (did you mean 'multiplayer'?)");
  EXPECT_EQ(suggest_key("partykit-room"), "partykit_room");
  EXPECT_EQ(suggest_key("instnace_id"), "instance_id");
  EXPECT_EQ(suggest_key("ttydport"), "ttyd_port");
  EXPECT_EQ(suggest_key("maxPlayers"), "max_players");
  EXPECT_EQ(suggest_key("colour"), std::nullopt);
  const auto far = expect_error(minimal("colour: red\n"), "unknown key 'colour'");
  EXPECT_NE(far.message.find("known keys"), std::string::npos);
}

// Messages that name keys take them from the parser's table of fields, so a
// new key appears in them without editing a list.
TEST(OrchRoomFile, MessagesNameTheKeysOfTheTable) {
  const auto& keys = known_keys();
  ASSERT_EQ(keys.size(), 12u);
  EXPECT_EQ(keys.front(), "room_id");
  EXPECT_EQ(keys.back(), "max_players");
  std::string listed;
  for (auto k : keys) listed += (listed.empty() ? "" : ", ") + std::string(k);
  const auto far = expect_error(minimal("colour: red\n"), "unknown key 'colour'");
  EXPECT_EQ(far.message, "unknown key 'colour' (known keys: " + listed + ")");
  // Every key of the table is accepted: none of them is "unknown".
  for (auto k : keys) {
    const auto r = parse_room_file("a", minimal(std::string(k) + ": x\n"));
    for (const auto& d : r.diagnostics) EXPECT_EQ(d.message.find("unknown key"), std::string::npos) << d.message;
  }
  // The empty frontmatter's message lists the required keys, in order.
  const auto empty = expect_error("---\n---\n", "frontmatter is empty");
  EXPECT_EQ(empty.message, "frontmatter is empty: expected a mapping with room_id, instance_id and ttyd_port");
  EXPECT_EQ(empty.line, 2);
  // Each required key is reported by name when it is missing, and only then.
  const auto none = parse_room_file("a", "---\ndisplay_name: x\n---\n");
  std::vector<std::string> missing;
  for (const auto& d : none.diagnostics) missing.push_back(d.message);
  EXPECT_EQ(missing, (std::vector<std::string>{"missing required field 'room_id'", "missing required field 'instance_id'",
                                               "missing required field 'ttyd_port'"}));
}

// partykit_server gets the bridge's own URL check (protocol/server_url.hpp).
TEST(OrchRoomFile, PartykitServerIsCheckedLikeTheBridgeDoes) {
  const std::string mp = "multiplayer: true\npartykit_room: r\npartykit_server: ";
  const auto port = expect_error(minimal(mp + "\"http://h:0\"\n"), "partykit_server: port '0'");
  EXPECT_EQ(port.message, "partykit_server: port '0' in 'http://h:0' is not 1..65535");
  expect_error(minimal(mp + "\"ws://h:65536\"\n"), "is not 1..65535");
  expect_error(minimal(mp + "\"http://h:12ab\"\n"), "text after the host or port");
  const auto scheme = expect_error(minimal(mp + "ftp://x.dev\n"), "partykit_server: scheme 'ftp'");
  EXPECT_EQ(scheme.message, "partykit_server: scheme 'ftp' in 'ftp://x.dev' is not one of http, https, ws, wss");
  EXPECT_TRUE(parse_room_file("a", minimal(mp + "HTTPS://Rooms.Example\n")).ok());  // schemes are case-insensitive
  EXPECT_TRUE(parse_room_file("a", minimal(mp + "http://h:65535/base/\n")).ok());
}

TEST(OrchRoomFile, DuplicateKeys) {
  const auto d = expect_error(minimal("room_id: other\n"), "appears twice");
  EXPECT_NE(d.message.find("first on line 2"), std::string::npos) << d.message;
}

TEST(OrchRoomFile, YamlSyntaxErrorsCarryALine) {
  const auto d = expect_error("---\nroom_id: x\ninstance_id: [1, 2\nttyd_port: 7681\n---\n", "not valid YAML");
  EXPECT_GE(d.line, 3);
  expect_error("---\nroom_id: x: y\n---\n", "not valid YAML");
  expect_error("---\n\tkey: x\n---\n", "not valid YAML");
}

TEST(OrchRoomFile, HostileInput) {
  // Binary bytes.
  expect_error(std::string("---\nroom_id: x\0y\n---\n", 20), "NUL");
  expect_error("---\nroom_id: \xff\xfe\n---\n", "UTF-8");
  expect_error(minimal("display_name: \"a\\x01b\"\n"), "control characters");
  // Huge.
  std::string huge = "---\n" + std::string(max_room_file_bytes, '#') + "\n---\n";
  expect_error(huge, "at most");
  std::string big_front = "---\nroom_id: x\n";
  while (big_front.size() <= max_frontmatter_bytes) big_front += "# comment line padding padding padding\n";
  expect_error(big_front + "---\n", "frontmatter is");
  // Deeply nested flow and block YAML: refused, never a crash.
  expect_error("---\nroom_id: " + std::string(30000, '[') + std::string(30000, ']') + "\n---\n", "");
  std::string block = "---\n";
  std::string indent;
  for (int i = 0; i < 300; ++i) {
    block += indent + "k:\n";
    indent += " ";
  }
  expect_error(block + "---\n", "");
  // Anchors and aliases, tags, complex keys.
  expect_error("---\n? [a, b]\n: c\nroom_id: x\ninstance_id: 1\nttyd_port: 7681\n---\n", "keys must be plain names");
  expect_error("---\nroom_id: &a x\ninstance_id: *a\nttyd_port: 7681\n---\n", "instance_id");
  expect_error("---\nroom_id: x\ninstance_id: !!str 1\nttyd_port: 7681\n---\n", "instance_id");
}

RC_GTEST_PROP(OrchRoomFile, ArbitraryBytesNeverCrash, (const std::string& junk)) {
  const auto a = parse_room_file("j", junk);
  const auto b = parse_room_file("j", "---\n" + junk + "\n---\n");
  RC_ASSERT(a.ok() || !a.diagnostics.empty());
  RC_ASSERT(b.ok() || !b.diagnostics.empty());
}

RC_GTEST_PROP(OrchRoomFile, ValidRoomsRoundTrip, ()) {
  const auto id = *rc::gen::inRange<std::int64_t>(0, 100000);
  const auto port = *rc::gen::inRange(1024, 65536);
  const bool mp = *rc::gen::arbitrary<bool>();
  std::string text = "---\nroom_id: r" + std::to_string(id) + "\ninstance_id: " + std::to_string(id) +
                     "\nttyd_port: " + std::to_string(port) + "\nmultiplayer: " + (mp ? "true" : "false") + "\n";
  if (mp) text += "partykit_room: p\npartykit_server: wss://h.example\n";
  const auto r = parse_room_file("g", text + "---\n");
  RC_ASSERT(r.ok());
  RC_ASSERT(r.room->instance_id == id);
  RC_ASSERT(r.room->ttyd_port == port);
  RC_ASSERT(r.room->multiplayer == mp);
}

TEST(OrchRoomSet, DuplicatesAcrossRoomsAreRejected) {
  auto room = [](std::string file, std::string id, int inst, int port) {
    Room r;
    r.source = std::move(file);
    r.room_id = std::move(id);
    r.instance_id = inst;
    r.ttyd_port = port;
    return r;
  };
  EXPECT_TRUE(check_room_set({room("a.md", "a", 1, 7681), room("b.md", "b", 2, 7682)}).empty());
  const auto d = check_room_set({room("a.md", "a", 1, 7681), room("b.md", "a", 1, 7681)});
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(format(d[0]), "b.md: error: room_id 'a' is also used by a.md");
  EXPECT_NE(d[1].message.find("instance_id 1 is also used by a.md"), std::string::npos);
  EXPECT_NE(d[2].message.find("ttyd_port 7681 is also used by a.md"), std::string::npos);
  EXPECT_EQ(check_room_set({room("a.md", "a", 1, 7681), room("b.md", "b", 3, 7681), room("c.md", "c", 3, 7683)}).size(),
            2u);
}

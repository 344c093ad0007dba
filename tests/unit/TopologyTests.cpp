#include "partition/Topology.h"
#include "support/Error.h"

#include <catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace edgesplit;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

// The fleet of docs/topology.md: three IMU bands and a Cortex-M7 hub.
const char *const kExample = R"({
  "schema": "edgesplit-topology/1",
  "devices": [
    {"name": "wrist", "target": "cortex-m4", "clock_mhz": 64, "ram_kib": 32, "flash_kib": 256, "sensors": ["wrist"]},
    {"name": "ankle", "target": "cortex-m4", "clock_mhz": 64, "ram_kib": 48, "flash_kib": 256, "sensors": ["ankle"]},
    {"name": "chest", "target": "cortex-m4", "clock_mhz": 64, "ram_kib": 64, "flash_kib": 256, "sensors": ["chest"]},
    {"name": "hub", "target": "cortex-m7", "clock_mhz": 216, "ram_kib": 512, "flash_kib": 2048, "role": "aggregator",
     "costs": {"active_mw": 80.0, "cycles_per_mac": {"int8": {"conv": 4.0}}}}
  ],
  "sensor_groups": {"wrist": ["wrist_imu"], "ankle": ["ankle_imu"], "chest": ["chest_imu"]},
  "links": [
    {"from": "wrist", "to": "hub", "kbps": 1000, "latency_ms": 7.5, "mtu": 244, "nj_per_byte": 80},
    {"from": "ankle", "to": "hub", "kbps": 1000, "latency_ms": 7.5, "mtu": 244, "nj_per_byte": 80},
    {"from": "chest", "to": "hub", "kbps": 1000, "latency_ms": 7.5, "mtu": 244, "nj_per_byte": 80}
  ],
  "heads": [{"output": "activity_all", "priority": 10}, {"output": "activity_wrist", "priority": 1}],
  "fallback": "heads",
  "objective": {"latency": 1.0, "energy": 1.0, "bytes": 0.0}
})";

Json example() { return Json::parse(kExample); }

std::string errorOf(const std::string &text) {
  try {
    parseTopology(text, "topo.json");
  } catch (const Error &error) {
    return error.what();
  }
  return "(no error)";
}

// With EDGESPLIT_TOPOLOGY_CASES=FILE, every document requireError checks is appended to FILE
// (one JSON object a line: the document and the pointer of its error), so that
// tests/cli/test_topology_schema.py runs docs/topology.schema.json over them too.
void recordCase(const Json &document, const std::string &pointer) {
  const char *path = std::getenv("EDGESPLIT_TOPOLOGY_CASES");
  if (!path) return;
  Json entry;
  entry["pointer"] = pointer;
  entry["document"] = document;
  std::ofstream(path, std::ios::app) << entry.dump() << "\n";
}

// Every topology error is one line: "<file>: <JSON pointer>: <what is wrong>...".
void requireError(const Json &document, const std::string &pointer, const std::string &phrase) {
  recordCase(document, pointer);
  const std::string message = errorOf(document.dump());
  REQUIRE_THAT(message,
               StartsWith("topo.json: " + pointer + ": ") && Contains(phrase) && !Contains("\n"));
}

fs::path scratchDir(const std::string &name) {
  fs::path dir = fs::temp_directory_path() / ("edgesplit-topology-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void writeFile(const fs::path &path, const std::string &text) { std::ofstream(path) << text; }

} // namespace

TEST_CASE("topology: the example parses with every field as given", "[topology]") {
  const Topology topology = parseTopology(kExample, "topo.json");
  CHECK(topology.source == "topo.json");

  REQUIRE(topology.devices.size() == 4);
  const TopologyDevice &wrist = topology.devices[0];
  CHECK(wrist.name == "wrist");
  CHECK(wrist.target.name == "cortex-m4");
  CHECK(wrist.target.clockMhz == 64);
  CHECK(wrist.target.ramKib == 32);
  CHECK(wrist.target.flashKib == 256);
  CHECK(wrist.sensors == std::vector<std::string>{"wrist"});
  CHECK_FALSE(wrist.aggregator);
  CHECK(topology.devices[1].target.ramKib == 48);
  CHECK(topology.devices[2].target.ramKib == 64);

  const Target m7 = loadTarget("cortex-m7");
  const TopologyDevice &hub = topology.devices[3];
  CHECK(hub.name == "hub");
  CHECK(hub.aggregator);
  CHECK(hub.sensors.empty());
  CHECK(hub.target.name == "cortex-m7");
  CHECK(hub.target.clockMhz == 216);
  CHECK(hub.target.ramKib == 512);
  CHECK(hub.target.flashKib == 2048);
  CHECK(hub.target.activeMw == 80.0);
  CHECK(hub.target.cyclesPerMac.at("int8").at("conv") == 4.0);
  CHECK(m7.cyclesPerMac.at("int8").at("conv") != 4.0);
  CHECK(hub.target.cyclesPerMac.at("int8").at("fully_connected") ==
        m7.cyclesPerMac.at("int8").at("fully_connected"));
  CHECK(hub.target.cyclesPerMac.at("float32") == m7.cyclesPerMac.at("float32"));
  CHECK(hub.target.cyclesPerElement == m7.cyclesPerElement);
  CHECK(hub.target.callOverheadCycles == m7.callOverheadCycles);
  CHECK(hub.target.stackBytes == m7.stackBytes);

  REQUIRE(topology.groups.size() == 3);
  CHECK(topology.groups[0].name == "wrist");
  CHECK(topology.groups[1].name == "ankle");
  CHECK(topology.groups[2].name == "chest");
  CHECK(topology.groups[2].inputs == std::vector<std::string>{"chest_imu"});

  REQUIRE(topology.links.size() == 3);
  const TopologyLink &link = topology.links[1];
  CHECK(link.from == "ankle");
  CHECK(link.to == "hub");
  CHECK(link.kbps == 1000);
  CHECK(link.latencyMs == 7.5);
  CHECK(link.mtu == 244);
  CHECK(link.njPerByte == 80);

  REQUIRE(topology.heads);
  REQUIRE(topology.heads->size() == 2);
  CHECK((*topology.heads)[0].output == "activity_all");
  CHECK((*topology.heads)[0].priority == 10);
  CHECK((*topology.heads)[1].output == "activity_wrist");
  CHECK((*topology.heads)[1].priority == 1);
  CHECK(topology.fallback == FallbackMode::Heads);
  CHECK(topology.objective.latency == 1.0);
  CHECK(topology.objective.energy == 1.0);
  CHECK(topology.objective.bytes == 0.0);
  CHECK_FALSE(topology.keyed); // only --keys or --key-provisioning hook key a fleet
  CHECK(topology.links[0].encrypt);

  CHECK(topology.canonical == example().dump());
  CHECK_THAT(topology.canonical, StartsWith(R"({"schema":"edgesplit-topology/1","devices":)"));

  CHECK(topology.aggregator().name == "hub");
  REQUIRE(topology.owner("ankle"));
  CHECK(topology.owner("ankle")->name == "ankle");
  CHECK(topology.owner("nope") == nullptr);
  REQUIRE(topology.link("chest", "hub"));
  CHECK(topology.link("chest", "hub")->from == "chest");
  CHECK(topology.link("hub", "chest") == nullptr);
  REQUIRE(topology.groupOfInput("wrist_imu"));
  CHECK(topology.groupOfInput("wrist_imu")->name == "wrist");
  CHECK(topology.groupOfInput("x") == nullptr);
}

TEST_CASE("topology: \"$schema\" is for editors and left out of the fingerprint", "[topology]") {
  Json document = example();
  document["$schema"] = "../docs/topology.schema.json";
  const Topology topology = parseTopology(document.dump(), "topo.json");
  CHECK(topology.canonical == parseTopology(kExample, "topo.json").canonical);
  CHECK(topology.devices.size() == 4);
  document["$schema"] = 3;
  requireError(document, "/$schema", "expected a string, got 3");
}

TEST_CASE("topology: optional keys take their defaults", "[topology]") {
  Json document = example();
  for (const char *key : {"heads", "fallback", "objective"}) document.erase(key);
  const Topology topology = parseTopology(document.dump(), "topo.json");
  CHECK_FALSE(topology.heads);
  CHECK(topology.fallback == FallbackMode::Heads);
  CHECK(topology.objective.latency == 1.0);
  CHECK(topology.objective.energy == 1.0);
  CHECK(topology.objective.bytes == 0.0);

  document["heads"] = Json::parse(R"([{"output": "activity_all"}])");
  document["fallback"] = "impute";
  document["objective"] = {{"bytes", 2.5}};
  const Topology other = parseTopology(document.dump(), "topo.json");
  CHECK((*other.heads)[0].priority == 0);
  CHECK(other.fallback == FallbackMode::Impute);
  CHECK(other.objective.latency == 1.0);
  CHECK(other.objective.bytes == 2.5);
}

TEST_CASE("topology: the aggregator may own sensor groups", "[topology]") {
  Json document = example();
  document["devices"].erase(2);
  document["devices"][2]["sensors"] = Json::array({"chest"});
  document["links"].erase(2);
  const Topology topology = parseTopology(document.dump(), "topo.json");
  CHECK(topology.owner("chest")->name == "hub");
}

TEST_CASE("topology: a target path is resolved beside the topology file", "[topology]") {
  const fs::path dir = scratchDir("target-path");
  fs::create_directories(dir / "targets");
  Json target =
      Json::parse(std::ifstream(fs::path(EDGESPLIT_SOURCE_DIR) / "targets/cortex-m4.json"));
  target["name"] = "my-board";
  writeFile(dir / "targets/board.json", target.dump());
  Json document = example();
  document["devices"][0]["target"] = "targets/board.json";
  writeFile(dir / "topology.json", document.dump());
  const Topology topology = loadTopology((dir / "topology.json").string());
  CHECK(topology.devices[0].target.name == "my-board");
  CHECK(topology.devices[0].target.ramKib == 32);
  CHECK(topology.source == (dir / "topology.json").string());
}

TEST_CASE("topology: an unreadable file is named", "[topology]") {
  REQUIRE_THROWS_WITH(loadTopology("/nonexistent/topo.json"),
                      "/nonexistent/topo.json: cannot read the topology file; check the path");
}

TEST_CASE("topology: invalid JSON gives the line and column", "[topology]") {
  const std::string message =
      errorOf("{\n  \"schema\": \"edgesplit-topology/1\",\n  \"devices\": [,]\n}");
  CHECK_THAT(message, StartsWith("topo.json: invalid JSON: ") && Contains("line 3, column") &&
                          !Contains("\n"));
  CHECK_THAT(errorOf("[1, 2]"), StartsWith("topo.json: expected a JSON object at the top level"));
}

TEST_CASE("topology: the schema is required and exact", "[topology]") {
  Json document = example();
  document["schema"] = "edgesplit-topology/2";
  requireError(document, "/schema",
               "expected \"edgesplit-topology/1\", got \"edgesplit-topology/2\"");
  document.erase("schema");
  requireError(document, "/schema", "missing");
}

TEST_CASE("topology: devices are required and non-empty", "[topology]") {
  Json document = example();
  document.erase("devices");
  requireError(document, "/devices", "missing; add the array of devices");
  document["devices"] = Json::array();
  requireError(document, "/devices", "empty");
  document["devices"] = Json::object();
  requireError(document, "/devices", "expected an array, got an object");
}

TEST_CASE("topology: sensor_groups and links are required", "[topology]") {
  Json document = example();
  document.erase("sensor_groups");
  requireError(document, "/sensor_groups", "missing");
  document = example();
  document.erase("links");
  requireError(document, "/links", "missing");
}

TEST_CASE("topology: a number field given as a string", "[topology]") {
  Json document = example();
  document["devices"][2]["ram_kib"] = "32";
  requireError(document, "/devices/2/ram_kib", "expected a number, got \"32\"");
}

TEST_CASE("topology: KiB and mtu must be integers", "[topology]") {
  Json document = example();
  document["devices"][1]["flash_kib"] = 255.5;
  requireError(document, "/devices/1/flash_kib", "expected an integer, got 255.5");
  document = example();
  document["links"][0]["mtu"] = 244.5;
  requireError(document, "/links/0/mtu", "expected an integer");
}

TEST_CASE("topology: a missing device field", "[topology]") {
  Json document = example();
  document["devices"][0].erase("clock_mhz");
  requireError(document, "/devices/0/clock_mhz", "missing");
}

TEST_CASE("topology: zero and negative numbers", "[topology]") {
  Json document = example();
  document["devices"][0]["clock_mhz"] = 0;
  requireError(document, "/devices/0/clock_mhz", "must be > 0, got 0");
  document = example();
  document["devices"][1]["ram_kib"] = -4;
  requireError(document, "/devices/1/ram_kib", "must be > 0, got -4");
  document = example();
  document["links"][2]["kbps"] = 0;
  requireError(document, "/links/2/kbps", "must be > 0");
  document = example();
  document["links"][0]["latency_ms"] = -1;
  requireError(document, "/links/0/latency_ms", "must be >= 0, got -1");
  document = example();
  document["links"][0]["nj_per_byte"] = -0.5;
  requireError(document, "/links/0/nj_per_byte", "must be >= 0");
  document = example();
  document["devices"][3]["costs"]["cycles_per_mac"]["int8"]["conv"] = 0;
  requireError(document, "/devices/3/costs/cycles_per_mac/int8/conv", "must be > 0");
  document = example();
  document["devices"][3]["costs"]["active_mw"] = -80;
  requireError(document, "/devices/3/costs/active_mw", "must be > 0");
  document = example();
  document["objective"]["energy"] = -1;
  requireError(document, "/objective/energy", "must be >= 0");
}

TEST_CASE("topology: unknown keys are named by their pointer", "[topology]") {
  Json document = example();
  document["extra"] = 1;
  requireError(document, "/extra",
               "unknown key; expected one of schema, devices, sensor_groups, links, heads, "
               "fallback, objective, privacy, round_timeout_ms, auth");
  document = example();
  document["a/b~c"] = 1;
  requireError(document, "/a~1b~0c", "unknown key");
  document = example();
  document["devices"][1]["ramkib"] = 48;
  requireError(document, "/devices/1/ramkib",
               "unknown key; expected one of name, target, clock_mhz");
  document = example();
  document["links"][0]["bandwidth"] = 1;
  requireError(document, "/links/0/bandwidth", "unknown key; expected one of from, to, kbps");
  document = example();
  document["objective"]["speed"] = 1;
  requireError(document, "/objective/speed", "unknown key; expected one of latency, energy, bytes");
  document = example();
  document["heads"][0]["weight"] = 1;
  requireError(document, "/heads/0/weight", "unknown key; expected one of output, priority");
  document = example();
  document["devices"][3]["costs"]["mips"] = 1;
  requireError(document, "/devices/3/costs/mips", "unknown key; expected one of active_mw");
}

TEST_CASE("topology: cost overrides name a known precision and kernel class", "[topology]") {
  Json document = example();
  document["devices"][3]["costs"]["cycles_per_mac"]["int4"] = {{"conv", 1.0}};
  requireError(document, "/devices/3/costs/cycles_per_mac/int4",
               "unknown precision; expected int8 or float32");
  document = example();
  document["devices"][3]["costs"]["cycles_per_element"] = {{"float32", {{"convv", 1.0}}}};
  requireError(document, "/devices/3/costs/cycles_per_element/float32/convv",
               "unknown kernel class; expected one of concat, copy");
}

TEST_CASE("topology: duplicate device names", "[topology]") {
  Json document = example();
  document["devices"][2]["name"] = "wrist";
  requireError(document, "/devices/2/name", "duplicate device name 'wrist' (also /devices/0/name)");
}

TEST_CASE("topology: bad device names", "[topology]") {
  Json document = example();
  document["devices"][0]["name"] = "left wrist";
  requireError(document, "/devices/0/name", "bad device name \"left wrist\"; use a non-empty name");
  document["devices"][0]["name"] = "";
  requireError(document, "/devices/0/name", "bad device name");
}

TEST_CASE("topology: unknown targets", "[topology]") {
  Json document = example();
  document["devices"][1]["target"] = "cortex-m9";
  requireError(document, "/devices/1/target", "unknown target 'cortex-m9' (built in: ");
  document["devices"][1]["target"] = "boards/missing.json";
  requireError(document, "/devices/1/target",
               "boards/missing.json: cannot read the target file; check the path");
}

TEST_CASE("topology: sensors naming an unknown group", "[topology]") {
  Json document = example();
  document["devices"][0]["sensors"] = Json::array({"wirst"});
  requireError(document, "/devices/0/sensors/0",
               "unknown sensor group 'wirst' (groups: wrist, ankle, chest)");
  document["devices"][0]["sensors"] = Json::array({"wrist", "wrist"});
  requireError(document, "/devices/0/sensors/1",
               "group 'wrist' is listed twice (also /devices/0/sensors/0)");
}

TEST_CASE("topology: a group owned by two devices", "[topology]") {
  Json document = example();
  document["devices"][3]["sensors"] = Json::array({"wrist"});
  requireError(document, "/devices/3/sensors/0",
               "group 'wrist' is owned by both 'wrist' (/devices/0/sensors/0) and 'hub'");
}

TEST_CASE("topology: a group owned by nobody", "[topology]") {
  Json document = example();
  document["sensor_groups"]["waist"] = Json::array({"waist_imu"});
  requireError(document, "/sensor_groups/waist", "no device owns group 'waist'");
}

TEST_CASE("topology: sensor group contents", "[topology]") {
  Json document = example();
  document["sensor_groups"]["ankle"] = Json::array({"ankle_imu", "wrist_imu"});
  requireError(document, "/sensor_groups/ankle/1",
               "input 'wrist_imu' is already listed at /sensor_groups/wrist/0");
  document = example();
  document["sensor_groups"]["wrist"] = Json::array({"wrist_imu", "wrist_imu"});
  requireError(document, "/sensor_groups/wrist/1",
               "input 'wrist_imu' is listed twice (also /sensor_groups/wrist/0)");
  document = example();
  document["sensor_groups"]["ankle"] = Json::array();
  requireError(document, "/sensor_groups/ankle", "empty");
  document = example();
  document["sensor_groups"]["ankle"] = Json::array({1});
  requireError(document, "/sensor_groups/ankle/0", "expected a string, got 1");
  document = example();
  document["sensor_groups"]["left ankle"] = Json::array({"x"});
  requireError(document, "/sensor_groups/left ankle", "bad group name 'left ankle'");
  document = example();
  document["sensor_groups"] = Json::object();
  requireError(document, "/sensor_groups", "empty");
}

TEST_CASE("topology: no aggregator", "[topology]") {
  Json document = example();
  document["devices"][3].erase("role");
  requireError(document, "/devices", "no device has \"role\": \"aggregator\"");
}

TEST_CASE("topology: two aggregators", "[topology]") {
  Json document = example();
  document["devices"][0]["role"] = "aggregator";
  requireError(document, "/devices/3/role",
               "more than one aggregator: 'wrist' (/devices/0), 'hub' (/devices/3)");
}

TEST_CASE("topology: an unknown role", "[topology]") {
  Json document = example();
  document["devices"][3]["role"] = "hub";
  requireError(document, "/devices/3/role",
               "unknown role \"hub\"; expected \"aggregator\", \"worker\" or \"sensor\"");
}

TEST_CASE("topology: a device with nothing to do", "[topology]") {
  Json document = example();
  document["devices"].push_back({{"name", "spare"},
                                 {"target", "cortex-m4"},
                                 {"clock_mhz", 64},
                                 {"ram_kib", 32},
                                 {"flash_kib", 256}});
  requireError(
      document, "/devices/4",
      "'spare' owns no sensor group and is not the aggregator; give it sensors, make it \"role\": "
      "\"worker\"");
}

// A sensor device, a worker relaying and computing, the aggregator; links only along the chain.
Json chain() {
  Json document = example();
  document["devices"] = Json::parse(R"([
    {"name": "wrist", "target": "cortex-m4", "clock_mhz": 64, "ram_kib": 32, "flash_kib": 256, "sensors": ["wrist", "ankle", "chest"]},
    {"name": "w1", "target": "cortex-m4", "clock_mhz": 64, "ram_kib": 64, "flash_kib": 256, "role": "worker"},
    {"name": "hub", "target": "cortex-m7", "clock_mhz": 216, "ram_kib": 512, "flash_kib": 2048, "role": "aggregator"}
  ])");
  document["links"] = Json::parse(R"([
    {"from": "wrist", "to": "w1", "kbps": 1000, "latency_ms": 2, "mtu": 244, "nj_per_byte": 80},
    {"from": "w1", "to": "hub", "kbps": 250, "latency_ms": 5, "mtu": 128, "nj_per_byte": 40}
  ])");
  return document;
}

TEST_CASE("topology: workers and paths instead of direct links", "[topology]") {
  const Topology topology = parseTopology(chain().dump(), "topo.json");
  CHECK(topology.devices[1].worker);
  CHECK_FALSE(topology.devices[1].aggregator);
  CHECK(topology.reaches(0, 2));
  CHECK_FALSE(topology.reaches(2, 0));

  Json document = chain();
  document["devices"][1]["sensors"] = {"wrist"};
  document["devices"][0]["sensors"] = {"ankle", "chest"};
  requireError(document, "/devices/1/sensors",
               "'w1' is a worker, which owns no sensors; remove its sensors or its \"role\"");

  document = chain();
  document["links"].erase(1);
  requireError(document, "/devices/0", "no path of /links from 'wrist' to the aggregator 'hub'");

  // A worker only the aggregator's own path leaves from, and one nobody links to.
  document = chain();
  document["devices"].push_back({{"name", "w2"}, {"target", "cortex-m4"}, {"clock_mhz", 64},
                                 {"ram_kib", 64}, {"flash_kib", 256}, {"role", "worker"}});
  document["links"].push_back({{"from", "w2"}, {"to", "hub"}, {"kbps", 1000},
                               {"latency_ms", 1}, {"mtu", 244}, {"nj_per_byte", 80}});
  requireError(document, "/devices/3",
               "worker 'w2' is reached by no path of /links from a sensor device or the "
               "aggregator");
  document["links"].push_back({{"from", "hub"}, {"to", "w2"}, {"kbps", 1000},
                               {"latency_ms", 1}, {"mtu", 244}, {"nj_per_byte", 80}});
  CHECK(errorOf(document.dump()) == "(no error)");
}

TEST_CASE("topology: a link to an unknown device", "[topology]") {
  Json document = example();
  document["links"][0]["to"] = "hubb";
  CHECK(errorOf(document.dump()) ==
        "topo.json: /links/0/to: unknown device 'hubb' (devices: wrist, ankle, chest, hub)");
  document = example();
  document["links"][1]["from"] = "knee";
  requireError(document, "/links/1/from", "unknown device 'knee'");
}

TEST_CASE("topology: a link to itself", "[topology]") {
  Json document = example();
  document["links"][0]["to"] = "wrist";
  requireError(document, "/links/0/to", "'wrist' links to itself");
}

TEST_CASE("topology: two links for one direction", "[topology]") {
  Json document = example();
  const Json first = document["links"][0];
  document["links"].push_back(first);
  requireError(document, "/links/3", "a second link from 'wrist' to 'hub' (also /links/0)");
}

TEST_CASE("topology: mtu out of range", "[topology]") {
  Json document = example();
  document["links"][0]["mtu"] = 63;
  requireError(document, "/links/0/mtu", "63 is out of range; expected an integer in [64, 65535]");
  document["links"][0]["mtu"] = 65536;
  requireError(document, "/links/0/mtu", "65536 is out of range");
  document["links"][0]["mtu"] = 64;
  CHECK(errorOf(document.dump()) == "(no error)");
}

TEST_CASE("topology: a device without a link to the aggregator", "[topology]") {
  Json document = example();
  document["links"].erase(1);
  CHECK(errorOf(document.dump()) ==
        "topo.json: /devices/1: no path of /links from 'ankle' to the aggregator 'hub'; add a link "
        "from 'ankle' to the aggregator or to a device that reaches it");
  document = example();
  document["links"][1] = {{"from", "hub"},     {"to", "ankle"}, {"kbps", 1000},
                          {"latency_ms", 7.5}, {"mtu", 244},    {"nj_per_byte", 80}};
  requireError(document, "/devices/1", "no path of /links from 'ankle' to the aggregator 'hub'");
}

TEST_CASE("topology: a bad fallback", "[topology]") {
  Json document = example();
  document["fallback"] = "maybe";
  requireError(document, "/fallback", "unknown mode \"maybe\"; expected \"heads\" or \"impute\"");
}

TEST_CASE("topology: an objective with every weight 0", "[topology]") {
  Json document = example();
  document["objective"] = {{"latency", 0}, {"energy", 0}};
  requireError(document, "/objective", "all weights are 0");
  document["objective"] = {{"latency", 0}};
  CHECK(errorOf(document.dump()) == "(no error)");
}

TEST_CASE("topology: no key in the topology; links encrypt unless told not to", "[topology]") {
  Json document = example();
  document["auth"]["key_hex"] = "000102030405060708090a0b0c0d0e0f";
  requireError(document, "/auth",
               "keys are not part of the topology (it is shared, committed and hashed into the "
               "public fingerprint); remove /auth and pass the master key in a keys file with "
               "--keys KEYS.json");
  document = example();
  document["links"][1]["encrypt"] = false;
  const Topology topology = parseTopology(document.dump(), "topo.json");
  CHECK(topology.links[0].encrypt);
  CHECK_FALSE(topology.links[1].encrypt);
  document["links"][1]["encrypt"] = "no";
  requireError(document, "/links/1/encrypt", "expected true or false, got \"no\"");
  document = example();
  document["links"][2]["duplex"] = false;
  CHECK_FALSE(parseTopology(document.dump(), "topo.json").links[2].duplex);
  CHECK(parseTopology(document.dump(), "topo.json").links[1].duplex);
}

TEST_CASE("topology: round deadline", "[topology]") {
  Json document = example();
  CHECK(parseTopology(document.dump(), "topo.json").roundTimeoutMs == 1000);
  document["round_timeout_ms"] = 250;
  CHECK(parseTopology(document.dump(), "topo.json").roundTimeoutMs == 250);
  document["round_timeout_ms"] = 0;
  requireError(document, "/round_timeout_ms", "0 is out of range; expected an integer in [1, 3600000]");
  document["round_timeout_ms"] = 2.5;
  requireError(document, "/round_timeout_ms", "expected an integer");
}

TEST_CASE("topology: privacy", "[topology]") {
  Json document = example();
  CHECK_FALSE(parseTopology(document.dump(), "topo.json").forbidRaw);
  document["privacy"] = {{"raw", "forbid"}};
  CHECK(parseTopology(document.dump(), "topo.json").forbidRaw);
  document["privacy"] = {{"raw", "allow"}};
  CHECK_FALSE(parseTopology(document.dump(), "topo.json").forbidRaw);
  document["privacy"] = {{"raw", "never"}};
  requireError(document, "/privacy/raw", "expected \"allow\" or \"forbid\", got \"never\"");
  document["privacy"] = {{"features", "forbid"}};
  requireError(document, "/privacy/features", "unknown key; expected one of raw");
}

TEST_CASE("topology: heads", "[topology]") {
  Json document = example();
  document["heads"][1]["output"] = "activity_all";
  requireError(document, "/heads/1/output",
               "head 'activity_all' is listed twice (also /heads/0/output)");
  document = example();
  document["heads"][0]["priority"] = 1.5;
  requireError(document, "/heads/0/priority", "expected an integer, got 1.5");
  document = example();
  document["heads"] = Json::array();
  requireError(document, "/heads", "empty");
  document = example();
  document["heads"][0].erase("output");
  requireError(document, "/heads/0/output", "missing");
}

TEST_CASE("topology: checked against the model", "[topology]") {
  const Topology topology = parseTopology(kExample, "topo.json");
  const std::vector<std::string> inputs{"wrist_imu", "ankle_imu", "chest_imu"};
  const std::vector<std::string> outputs{"activity_all", "activity_wrist"};
  CHECK_NOTHROW(checkTopologyAgainstModel(topology, inputs, outputs));

  SECTION("a model input in no group") {
    const std::vector<std::string> more{"wrist_imu", "ankle_imu", "chest_imu", "heart_rate"};
    REQUIRE_THROWS_WITH(checkTopologyAgainstModel(topology, more, outputs),
                        StartsWith("topo.json: /sensor_groups: model input 'heart_rate' is in no "
                                   "sensor group (model inputs: wrist_imu, ankle_imu, chest_imu, "
                                   "heart_rate)"));
  }
  SECTION("a group naming something that is not a model input") {
    const std::vector<std::string> fewer{"wrist_imu", "ankle_imu"};
    REQUIRE_THROWS_WITH(checkTopologyAgainstModel(topology, fewer, outputs),
                        StartsWith("topo.json: /sensor_groups/chest/0: 'chest_imu' is not an input "
                                   "of the model (model inputs: wrist_imu, ankle_imu)"));
  }
  SECTION("a head naming something that is not a model output") {
    const std::vector<std::string> one{"activity_all"};
    REQUIRE_THROWS_WITH(checkTopologyAgainstModel(topology, inputs, one),
                        StartsWith("topo.json: /heads/1/output: 'activity_wrist' is not an output "
                                   "of the model (model outputs: activity_all)"));
  }
}

TEST_CASE("topology: placement pins nodes to devices", "[topology]") {
  Json document = chain();
  document["placement"] = {{"conv_3", "w1"}, {"gemm_0", "hub"}};
  const Topology topology = parseTopology(document.dump(), "topo.json");
  REQUIRE(topology.pins.size() == 2);
  CHECK(topology.pins.at("conv_3") == 1);
  CHECK(topology.pins.at("gemm_0") == 2);
  document["placement"]["gemm_0"] = "w9";
  requireError(document, "/placement/gemm_0", "unknown device 'w9' (devices: wrist, w1, hub)");
  document["placement"] = Json::array();
  requireError(document, "/placement", "expected an object");
}

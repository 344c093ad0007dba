"""The attacks of issue 17 against the generated HAR fleet, each now harmless. A C harness (built
with ASan and UBSan) is linked with the fleet compiled with --keys and plays the attacker on the
radio, the owner of a captured sensor, and the reboots; the compile-side checks (weak keys, where
keys end up) run the CLI. Per-link keys are recomputed here with RFC 5869's two HMAC steps, not
with the compiler's code."""
import hashlib
import hmac
import json
import pathlib
import re
import subprocess
import tempfile

from helpers import SOURCE, CliTestCase, build_fleet_program, run, write_keys

HAR = SOURCE / "examples" / "har"
FLAGS = ["-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pedantic",
         "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
DEVICES = ["wrist", "ankle", "chest", "hub"]  # device ids 0-3, links 0-2 from the sensors
FULL = "HUB_HEAD_ACTIVITY_WRIST_ANKLE_CHEST"

HARNESS = r"""
#include "wrist/fleet.h"
#include "ankle/fleet.h"
#include "chest/fleet.h"
#include "hub/fleet.h"
#include "es_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FRAMES 16
#define MAX_BYTES 256

typedef struct {
  size_t len;
  uint8_t bytes[MAX_BYTES];
} frame_t;

/* What each sensor sent in its last step: what an attacker on the air records. */
static frame_t sent[3][MAX_FRAMES];
static int sent_count[3], sending;
static float input[6 * 48];
static const uint8_t captured_wrist_key[32] = {@WRIST_KEY@};

static void check(int ok, const char *what) {
  if (!ok) {
    printf("FAIL: %s\n", what);
    exit(1);
  }
}

static void record(const uint8_t *frame, size_t len) {
  frame_t *f = &sent[sending][sent_count[sending]++];
  check(sent_count[sending] <= MAX_FRAMES && len <= MAX_BYTES, "frame fits the harness");
  f->len = len;
  memcpy(f->bytes, frame, len);
}

void wrist_send(uint8_t link, const uint8_t *frame, size_t len) { (void)link; record(frame, len); }
void ankle_send(uint8_t link, const uint8_t *frame, size_t len) { (void)link; record(frame, len); }
void chest_send(uint8_t link, const uint8_t *frame, size_t len) { (void)link; record(frame, len); }

/* Boot counters kept "in flash": they survive the restarts below. */
uint32_t wrist_next_epoch(void) { static uint32_t boots; return ++boots; }
uint32_t ankle_next_epoch(void) { static uint32_t boots; return ++boots; }
uint32_t chest_next_epoch(void) { static uint32_t boots; return ++boots; }
uint32_t hub_next_epoch(void) { static uint32_t boots; return boots++; }

/* The hub's clock, moved by the harness. */
static uint32_t now;
uint32_t hub_now_ms(void) { return now; }

/* The hub's beacons reach the sensor at the other end of each link. */
void hub_send(uint8_t link, const uint8_t *frame, size_t len) {
  if (link == 0) wrist_on_beacon(frame, len);
  if (link == 1) ankle_on_beacon(frame, len);
  if (link == 2) chest_on_beacon(frame, len);
}

/* Opens a round and steps every sensor on the round its beacon announced. */
static uint32_t step_all(void) {
  const uint32_t round = hub_begin_round();
  sending = 0, sent_count[0] = 0, wrist_step(wrist_round(), input);
  sending = 1, sent_count[1] = 0, ankle_step(ankle_round(), input);
  sending = 2, sent_count[2] = 0, chest_step(chest_round(), input);
  return round;
}

static void deliver(int device, int from, int to) {
  int k;
  for (k = from; k < to; ++k) {
    const int code = hub_on_frame(sent[device][k].bytes, sent[device][k].len);
    check(code == ES_WIRE_ACCEPTED, "a genuine frame is accepted");
  }
}

static int full_round(void) {
  const uint32_t round = step_all();
  int d;
  for (d = 0; d < 3; ++d) deliver(d, 0, sent_count[d]);
  return hub_predict(round) == @FULL@;
}

static uint8_t forge_scratch[244];
static frame_t forged;
static void keep_forged(uint8_t link, const uint8_t *frame, size_t len) {
  (void)link;
  forged.len = len;
  memcpy(forged.bytes, frame, len);
}

/* A frame built with the captured wrist key, claiming `source`, for (epoch, round). */
static const frame_t *forge(uint8_t source, uint32_t epoch, uint32_t round);

/* Feeds the hub a forged frame (built first: argument order is unspecified in C). */
static int feed_forged(uint8_t source, uint32_t epoch, uint32_t round) {
  const frame_t *frame = forge(source, epoch, round);
  return hub_on_frame(frame->bytes, frame->len);
}

static const frame_t *forge(uint8_t source, uint32_t epoch, uint32_t round) {
  static const int8_t features[24] = {1, 2, 3};
  es_wire_sender_t forger;
  memset(&forger, 0, sizeof forger);
  forger.fingerprint = WRIST_FINGERPRINT;
  forger.source = source;
  forger.mtu = sizeof forge_scratch;
  forger.mode = ES_WIRE_AEAD;
  forger.key = captured_wrist_key;
  forger.sender_epoch = 77;
  forger.frame = forge_scratch;
  forger.send = keep_forged;
  check(es_wire_begin_round(&forger, epoch, round) == 1, "the forger begins its round");
  check(es_wire_send_tensor(&forger, 0, features, sizeof features) == 1, "one forged frame");
  return &forged;
}

static void attacks(void) {
  static frame_t old[3][MAX_FRAMES];
  static int old_count[3];
  uint32_t round;
  int d, k, r;

  check(full_round(), "the full head runs on a quiet fleet");

  /* 7. No plaintext on the air: the wrist's payload is not its int8 features, and the same
   * features encrypt differently in the next round. */
  {
    static uint8_t first[MAX_BYTES];
    const size_t payload = sent[0][0].len - 32;
    size_t same = 0, i;
    check(payload == (size_t)wrist_output_size(0), "one frame carries the wrist's features");
    for (i = 0; i < payload; ++i) same += sent[0][0].bytes[16 + i] == ((const uint8_t *)wrist_output(0))[i];
    check(memcmp(sent[0][0].bytes + 16, wrist_output(0), payload) != 0 && same * 8 < payload,
          "the payload is not the feature tensor");
    memcpy(first, sent[0][0].bytes + 16, payload);
    check(full_round(), "the full head runs");
    check(memcmp(first, sent[0][0].bytes + 16, payload) != 0, "the same tensor encrypts differently");
  }

  /* 1. A captured sensor's key cannot speak for another device. */
  round = step_all();
  for (d = 0; d < 3; ++d) deliver(d, 0, sent_count[d]);
  check(feed_forged(1, hub_epoch(), round) == ES_WIRE_BAD_AUTH,
        "the wrist's key does not pass for the ankle");
  check(feed_forged(2, hub_epoch(), round) == ES_WIRE_BAD_AUTH,
        "the wrist's key does not pass for the chest");
  check(hub_predict(round) == @FULL@, "the full head still runs on the genuine frames");

  /* 2. A frame far in the future (the captured key's own source) stops nobody. */
  check(feed_forged(0, hub_epoch(), round + 0x80000000u) == ES_WIRE_STALE,
        "a round far ahead is refused");
  check(feed_forged(0, hub_epoch() + 1000u, 1) == ES_WIRE_STALE,
        "an epoch far ahead is refused");
  for (r = 0; r < 10; ++r) check(full_round(), "the next rounds complete");

  /* 3. A rebooted sensor is back in the full head within 2 rounds (here: the first). */
  wrist_fleet_init();
  check(full_round() || full_round(), "the rebooted wrist is back within 2 rounds");

  /* 4. After an aggregator reboot, no captured round is accepted again. */
  round = step_all();
  for (d = 0; d < 3; ++d) {
    deliver(d, 0, sent_count[d]);
    old_count[d] = sent_count[d];
    memcpy(old[d], sent[d], sizeof sent[d]);
  }
  check(hub_predict(round) == @FULL@, "the recorded round ran");
  hub_fleet_init();
  check(full_round(), "the fleet follows the aggregator into its new epoch");
  round = step_all();
  for (d = 0; d < 3; ++d)
    for (k = 0; k < old_count[d]; ++k)
      check(hub_on_frame(old[d][k].bytes, old[d][k].len) == ES_WIRE_STALE,
            "a frame recorded before the aggregator's reboot is refused");
  check(hub_predict(round) == HUB_NO_HEAD, "no head runs on the recorded round");
  for (d = 0; d < 3; ++d) deliver(d, 0, sent_count[d]);
  check(hub_predict(round) == @FULL@, "the genuine round still completes");

  /* 5. 2^32 + 10 rounds later (the counters set there) the frames of round 10 stay refused. */
  {
    static uint8_t data[2 * 24], seen[2];
    es_wire_source_t source = {0, ES_WIRE_AEAD, captured_wrist_key};
    es_wire_slot_t slot = {0, 0, 0, 1, 212, 24, data, seen, {0, 0}};
    es_wire_receiver_t receiver;
    uint8_t copy[MAX_BYTES];
    memset(&receiver, 0, sizeof receiver);
    receiver.fingerprint = WRIST_FINGERPRINT;
    receiver.sources = &source;
    receiver.source_count = 1;
    receiver.slots = &slot;
    receiver.slot_count = 1;
    check(es_wire_open_round(&receiver, 0, 10), "round 10 opens");
    forge(0, 0, 10);
    memcpy(copy, forged.bytes, forged.len);
    check(es_wire_receive(&receiver, copy, forged.len) == ES_WIRE_ACCEPTED, "round 10 taken");
    check(es_wire_open_round(&receiver, 0, 0xFFFFFFFFu), "the last round of epoch 0 opens");
    check(es_wire_open_round(&receiver, 1, 10), "round 2^32 + 10 opens");
    check(es_wire_receive(&receiver, copy, forged.len) == ES_WIRE_STALE,
          "round 10 is not reopened by a wrapped counter");
    check(es_wire_open_round(&receiver, 0, 10) == 0, "an old round cannot be opened again");
  }
  /* A round whose deadline passed is abandoned: its late frames are refused. */
  round = step_all();
  deliver(0, 0, sent_count[0]);
  now += HUB_ROUND_TIMEOUT_MS - 1u;
  deliver(1, 0, sent_count[1]);
  now += 1u;
  check(hub_on_frame(sent[2][0].bytes, sent[2][0].len) == ES_WIRE_STALE,
        "a frame after the round's deadline is refused");
  check(hub_predict(round) != @FULL@, "the abandoned round does not run the full head");
  check(full_round(), "the next round completes");
  printf("attacks: all harmless\n");
}

/* 6. The chest, sending 9 fragments a round, 3 frame slots late: its last 3 fragments of round r
 * arrive after the first frames of round r + 1. */
static void late(void) {
  static frame_t pending[3];
  uint32_t previous = 0, round;
  int r, full = 0, k;
  for (r = 0; r <= 200; ++r) {
    round = step_all();
    check(sent_count[2] == 9, "the chest sends 9 fragments");
    deliver(0, 0, sent_count[0]);
    deliver(1, 0, sent_count[1]);
    if (r > 0) {
      for (k = 0; k < 3; ++k)
        check(hub_on_frame(pending[k].bytes, pending[k].len) == ES_WIRE_ACCEPTED,
              "a late fragment of the previous round is taken");
      full += hub_predict(previous) == @FULL@;
    }
    deliver(2, 0, 6);
    memcpy(pending, &sent[2][6], sizeof pending);
    previous = round;
  }
  printf("late: %d/200 full\n", full);
  check(full == 200, "every round completes");
}

int main(int argc, char **argv) {
  int i;
  for (i = 0; i < 6 * 48; ++i) input[i] = (float)((i * 37) % 200 - 100) / 50.0f;
  wrist_fleet_init();
  ankle_fleet_init();
  chest_fleet_init();
  hub_fleet_init();
  if (argc == 2 && strcmp(argv[1], "late") == 0) late();
  else attacks();
  return 0;
}
"""


def hkdf_link_key(master, sender, receiver):
    """RFC 5869 HKDF-SHA256 as docs/security.md specifies it, written out."""
    prk = hmac.new(b"edgesplit-link-key/1", master, hashlib.sha256).digest()
    info = b"edgesplit link " + bytes([sender, receiver])
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def c_bytes(data):
    return ", ".join(f"0x{b:02x}" for b in data)


def compile_har(folder, name, topology=None, *extra):
    """The HAR example compiled with a fresh keys file (or `extra` flags): (folder, master key)."""
    topology_path = HAR / "topology.json"
    if topology is not None:
        topology_path = folder / f"{name}.json"
        topology_path.write_text(json.dumps(topology))
    keys = write_keys(folder / f"{name}_keys.json")
    out = folder / name
    result = run("compile", HAR / "model.onnx", "--topology", topology_path, "--calibration",
                 HAR / "calibration.npz", *(extra or ("--keys", keys)), "-o", out)
    return result, out, bytes.fromhex(json.loads(keys.read_text())["master_key_hex"])


class SecurityTest(CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls._shared = tempfile.TemporaryDirectory(prefix="edgesplit-security-")
        result, cls.fleet, cls.master = compile_har(pathlib.Path(cls._shared.name), "har")
        assert result.returncode == 0 and "warning" not in result.stderr, result.stderr

    @classmethod
    def tearDownClass(cls):
        cls._shared.cleanup()

    def compile_har(self, name, topology=None):
        result, out, master = compile_har(self.tmp, name, topology)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("warning", result.stderr)
        return out, master

    def build_harness(self, fleet, name):
        wrist_key = re.search(r"static const uint8_t wrist_link_key\[32\] = \{([^}]*)\}",
                              (fleet / "wrist" / "fleet.c").read_text()).group(1)
        source = HARNESS.replace("@WRIST_KEY@", wrist_key).replace("@FULL@", FULL)
        return build_fleet_program(fleet, DEVICES, source, self.tmp / f"build_{name}", FLAGS)

    def test_attacks_on_the_har_fleet_are_harmless(self):
        harness = self.build_harness(self.fleet, "har")
        result = subprocess.run([str(harness)], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("attacks: all harmless", result.stdout)

    def test_a_sensor_three_slots_late_completes_every_round(self):
        # The chest sends its raw window: 288 bytes in 9 fragments of 32 on 64-byte frames.
        topology = json.loads((HAR / "topology.json").read_text())
        chest = next(d for d in topology["devices"] if d["name"] == "chest")
        chest.update({"ram_kib": 1, "costs": {"stack_bytes": 600}})
        for link in topology["links"]:
            link["mtu"] = 64
        fleet, _ = self.compile_har("late", topology)
        result = subprocess.run([str(self.build_harness(fleet, "late")), "late"],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("late: 200/200 full", result.stdout)

    def test_keys_stay_where_they_belong(self):
        fleet, master = self.fleet, self.master
        everything = b"".join(p.read_bytes() for p in fleet.rglob("*") if p.is_file())
        for form in (master.hex().encode(), master.hex().upper().encode(), c_bytes(master[:8]).encode(),
                     master):
            self.assertNotIn(form, everything, "the master key is in no generated file")
        # Every key array of each device's fleet.c, read back as bytes.
        held = {d: {bytes(int(b, 16) for b in re.findall(r"0x([0-9a-f]{2})", body))
                    for body in re.findall(r"link_key\w*\[32\] = \{([^}]*)\}",
                                           (fleet / d / "fleet.c").read_text())}
                for d in DEVICES}
        links = {sensor: hkdf_link_key(master, sensor, 3) for sensor in range(3)}
        for device in DEVICES:
            expected = {links[s] for s in range(3) if device in (DEVICES[s], "hub")}
            self.assertEqual(held[device], expected, f"the link keys in {device}/fleet.c")
        report = (fleet / "report.json").read_text()
        self.assertTrue(json.loads(report)["fleet"]["authenticated"])
        self.assertNotIn(master.hex(), report)
        # The fingerprint does not depend on the key.
        other, _ = self.compile_har("other")
        fingerprint = lambda f: json.loads((f / "report.json").read_text())["fleet"]["fingerprint"]
        self.assertEqual(fingerprint(fleet), fingerprint(other))

    def test_hook_provisioning_writes_no_key(self):
        result, fleet, _ = compile_har(self.tmp, "hooked", None, "--key-provisioning", "hook")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("warning", result.stderr)
        for device in DEVICES:
            header, source = ((fleet / device / f).read_text() for f in ("fleet.h", "fleet.c"))
            self.assertIn(f"void {device}_load_key(uint8_t link, uint8_t key[32]);", header)
            self.assertIsNone(re.search(r"static const uint8_t \w*link_key", source), device)
            self.assertIn("load_key(", source)
        report = json.loads((fleet / "report.json").read_text())
        self.assertEqual(report["fleet"]["key_provisioning"], "hook")
        result = run("run", fleet, "--input", f"wrist_imu={HAR / 'wrist_imu.npy'}", "-o",
                     self.tmp / "hooked_run")
        self.assert_fails(result, 2, "--key-provisioning hook", "cannot be simulated")

    def test_weak_keys_are_refused_and_write_nothing(self):
        for name, hex_key in (("zero", "00" * 32), ("repeated", "a5" * 32),
                              ("example", bytes(range(32)).hex())):
            keys = self.tmp / f"{name}.json"
            keys.write_text(json.dumps({"schema": "edgesplit-keys/1", "master_key_hex": hex_key}))
            out = self.tmp / f"weak_{name}"
            result = run("compile", HAR / "model.onnx", "--topology", HAR / "topology.json",
                         "--calibration", HAR / "calibration.npz", "--keys", keys, "-o", out)
            self.assert_fails(result, 1, f"{name}.json", "weak key refused")
            self.assertNotIn(hex_key, result.stderr)
            self.assertFalse(out.exists())

    def test_privacy_forbids_the_raw_cut(self):
        """A slow wrist makes the partitioner ship its raw window; "privacy": {"raw": "forbid"}
        keeps the branch on the wrist, and it is an error when nothing else fits. Compiled
        without keys: the warning is the only other line."""
        topology = json.loads((HAR / "topology.json").read_text())
        next(d for d in topology["devices"] if d["name"] == "wrist")["clock_mhz"] = 1
        raw = lambda out: {l["from"]: l["raw"] for l in json.loads((out / "report.json").read_text())["links"]}
        result, allowed, _ = compile_har(self.tmp, "slow", topology, "--precision", "int8")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn("warning", lines[0])
        self.assertIn("--keys", lines[0])
        self.assertEqual(raw(allowed), {"wrist": True, "ankle": False, "chest": False})
        topology["privacy"] = {"raw": "forbid"}
        result, forbidden, _ = compile_har(self.tmp, "private", topology, "--precision", "int8")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(raw(forbidden), {"wrist": False, "ankle": False, "chest": False})
        # RAM for the raw window and a 64-byte frame, not for the branch's activations.
        chest = next(d for d in topology["devices"] if d["name"] == "chest")
        chest.update({"ram_kib": 1, "costs": {"stack_bytes": 600}})
        next(l for l in topology["links"] if l["from"] == "chest")["mtu"] = 64
        result, out, _ = compile_har(self.tmp, "cramped", topology, "--precision", "int8")
        self.assert_fails(result, 1, "cramped.json", "/privacy/raw", "'chest'", "can only send")
        self.assertFalse(out.exists())

    def test_har_rejoins_after_a_reboot_on_the_host(self):
        fleet = self.fleet
        inputs = [a for g in ("wrist", "ankle", "chest")
                  for a in ("--input", f"{g}_imu={HAR / (g + '_imu.npy')}")]
        result = run("run", fleet, *inputs, "-o", self.tmp / "rejoin_run", "--reboot", "wrist@5",
                     "--sanitize")
        self.assertEqual(result.returncode, 0, result.stderr)
        samples = json.loads((self.tmp / "rejoin_run" / "run.json").read_text())["per_sample"]
        self.assertEqual(len(samples), 16)
        for sample in samples[7:]:
            self.assertEqual(sample["head"], "activity_wrist_ankle_chest", sample)

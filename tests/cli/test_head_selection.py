"""Head selection of the generated aggregator, as a property. A C driver linked with the generated
fleet opens a round on the aggregator, steps the generated sensors and feeds their frames to
<agg>_on_frame: per round a random subset of devices, some with a fragment missing, in a random
order, with duplicates, corrupted copies, replays of the previous round (still open: two rounds are
in flight) and sometimes a frame of the next round, not opened yet, in between.
Every round, <agg>_predict must pick the head that docs/partition.md's rule picks for the devices
whose frames all arrived (most groups, then higher priority, then model output order), or none.
The rule is computed here from the topology and the model, not from the compiler's head order."""
import itertools
import json
import re
import subprocess

import onnx

from helpers import SOURCE, CliTestCase, build_fleet_program, run, write_keys

HAR = SOURCE / "examples" / "har"
STRICT = ["-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-pedantic"]
ROUNDS = 400

DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENSORS @SENSORS@
#define MAX_FRAMES 64
#define MAX_FRAME_BYTES 2048
#define MAX_INPUT 16384
#define MAX_DELIVERIES 1024

typedef struct {
  size_t len;
  uint8_t bytes[MAX_FRAME_BYTES];
} frame_t;

enum { INTACT, CORRUPT, OLD };
typedef struct {
  int device, index, kind;
} delivery_t;

static frame_t frames[SENSORS][MAX_FRAMES], previous[SENSORS][MAX_FRAMES];
static int frame_count[SENSORS], previous_count[SENSORS];
static int stepping;
static float input[MAX_INPUT];
static unsigned long long rng_state;

static unsigned long long next_random(void) { /* splitmix64 */
  unsigned long long z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static unsigned pick(unsigned n) { return (unsigned)(next_random() % n); }

static void die(const char *what, long round, int code) {
  printf("FAIL round %ld: %s (code %d)\n", round, what, code);
  exit(1);
}

static void capture(const uint8_t *frame, size_t len) {
  frame_t *slot;
  if (frame_count[stepping] == MAX_FRAMES || len > MAX_FRAME_BYTES) die("too many frames", -1, 0);
  slot = &frames[stepping][frame_count[stepping]++];
  slot->len = len;
  memcpy(slot->bytes, frame, len);
}

@HOOKS@
/* Beacons are not needed here: the sensors answer the round the driver passes, in epoch 0. */
void @AGG@send(uint8_t link, const uint8_t *frame, size_t len) {
  (void)link;
  (void)frame;
  (void)len;
}

uint32_t @AGG@next_epoch(void) { return 0; }
uint32_t @AGG@now_ms(void) { return 0; }

static void step(int device, uint32_t seq) {
  static uint32_t stepped[SENSORS];
  if (stepped[device] == seq) return; /* sent early: a sender never sends a round twice */
  stepped[device] = seq;
  stepping = device;
  frame_count[device] = 0;
  switch (device) {
@STEPS@  }
}

int main(int argc, char **argv) {
  static delivery_t deliveries[MAX_DELIVERIES];
  static uint8_t corrupted[MAX_FRAME_BYTES];
  static int arrived[SENSORS][MAX_FRAMES];
  const long rounds = argc > 2 ? strtol(argv[1], NULL, 10) : 0;
  uint32_t seq;
  long round;
  int d, k, i;
  if (argc != 3) return 2;
  rng_state = strtoull(argv[2], NULL, 10);
  for (i = 0; i < MAX_INPUT; ++i) input[i] = (float)pick(4001) / 1000.0f - 2.0f;
@INITS@  @AGG@fleet_init();
  for (round = 0; round < rounds; ++round) {
    int count = 0, newer = 0;
    unsigned long delivered = 0;
    int head;
    seq = @AGG@begin_round();
    for (d = 0; d < SENSORS; ++d) {
      step(d, seq);
      for (k = 0; k < frame_count[d]; ++k) arrived[d][k] = 0;
    }
    /* Per device: nothing, all but one fragment, or everything; then duplicates of what is
     * sent, corrupted copies and the previous round's frames of any fragment. */
    for (d = 0; d < SENSORS; ++d) {
      const unsigned plan = pick(4);
      const int missing = plan == 1 ? (int)pick((unsigned)frame_count[d]) : -1;
      for (k = 0; k < frame_count[d]; ++k) {
        if (plan != 0 && k != missing) {
          deliveries[count++] = (delivery_t){d, k, INTACT};
          if (pick(4) == 0) deliveries[count++] = (delivery_t){d, k, INTACT};
        }
        if (pick(3) == 0) deliveries[count++] = (delivery_t){d, k, CORRUPT};
        if (pick(4) == 0 && k < previous_count[d]) deliveries[count++] = (delivery_t){d, k, OLD};
      }
    }
    for (i = count - 1; i > 0; --i) { /* Fisher-Yates */
      const int j = (int)pick((unsigned)i + 1u);
      const delivery_t t = deliveries[i];
      deliveries[i] = deliveries[j];
      deliveries[j] = t;
    }
    for (i = 0; i < count; ++i) {
      const delivery_t *x = &deliveries[i];
      const frame_t *f = x->kind == OLD ? &previous[x->device][x->index] : &frames[x->device][x->index];
      int code;
      if (x->kind == CORRUPT) {
        memcpy(corrupted, f->bytes, f->len);
        corrupted[pick((unsigned)f->len)] ^= (uint8_t)(1u + pick(255));
        code = @AGG@on_frame(corrupted, f->len);
        if (code == ES_WIRE_ACCEPTED) die("a corrupted frame was accepted", round, code);
      } else if (x->kind == OLD) {
        /* The previous round is still open: its frames go to its own lane, never this one's. */
        code = @AGG@on_frame(f->bytes, f->len);
        if (code != ES_WIRE_ACCEPTED && code != ES_WIRE_DUPLICATE)
          die("a frame of the previous round was rejected", round, code);
      } else {
        code = @AGG@on_frame(f->bytes, f->len);
        if (code != ES_WIRE_ACCEPTED && code != ES_WIRE_DUPLICATE)
          die("an intact frame was rejected", round, code);
        arrived[x->device][x->index] = 1;
      }
    }
    for (d = 0; d < SENSORS; ++d) {
      int all = 1;
      for (k = 0; k < frame_count[d]; ++k) all &= arrived[d][k];
      if (all) delivered |= 1ul << d;
      previous_count[d] = frame_count[d];
      memcpy(previous[d], frames[d], sizeof frames[d]);
    }
    /* Sometimes a fragment of the next round overtakes: that round is not open yet, so it is
     * refused and this round stays whole. */
    if (pick(8) == 0) {
      const int e = (int)pick(SENSORS);
      step(e, seq + 1u);
      if (@AGG@on_frame(frames[e][0].bytes, frames[e][0].len) != ES_WIRE_STALE)
        die("a frame of a round not opened yet was not refused", round, -1);
      newer = 1;
    }
    head = @AGG@predict(seq);
    printf("%ld %lu %s %lu %d\n", round, delivered, head >= 0 ? @AGG@head_name(head) : "-",
           (unsigned long)@AGG@arrived_groups(seq), newer);
  }
  return 0;
}
"""


def expected_head(arrived, heads):
    """docs/partition.md: the heads whose groups all arrived; most groups, then higher priority,
    then model output order."""
    runnable = [h for h in heads if h["groups"] <= arrived]
    if not runnable:
        return None
    return max(runnable, key=lambda h: (len(h["groups"]), h["priority"], -h["model_index"]))["output"]


class HeadSelectionTest(CliTestCase):
    def compile_fleet(self, topology_path, keyed):
        out = self.tmp / "fleet"
        keys = ["--keys", write_keys(self.tmp / "keys.json")] if keyed else []
        result = run("compile", HAR / "model.onnx", "--topology", topology_path, "--calibration",
                     HAR / "calibration.npz", *keys, "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        return out

    def build_driver(self, fleet, topology):
        aggregator = next(d for d in topology["devices"] if d.get("role") == "aggregator")
        self.assertFalse(aggregator.get("sensors"), "the driver sets no aggregator inputs")
        sensors = [d["name"] for d in topology["devices"] if d is not aggregator]
        hooks, steps, inits = "", "", ""
        for index, name in enumerate(sensors):
            inputs = int(re.search(r"#define \w+_INPUT_COUNT (\d+)",
                                   (fleet / name / "model.h").read_text()).group(1))
            hooks += (f"void {name}_send(uint8_t link, const uint8_t *frame, size_t len) {{\n"
                      f"  (void)link;\n  capture(frame, len);\n}}\n"
                      f"uint32_t {name}_next_epoch(void) {{ return 1; }}\n")
            checks = "".join(f"    if ({name}_input_size({i}) > MAX_INPUT) die(\"input too large\", -1, 0);\n"
                             for i in range(inputs))
            steps += f"  case {index}:\n{checks}    {name}_step(seq{', input' * inputs});\n    break;\n"
            inits += f"  {name}_fleet_init();\n"
        includes = "".join(f'#include "{name}/fleet.h"\n' for name in sensors + [aggregator["name"]])
        source = includes + DRIVER
        for key, value in (("SENSORS", str(len(sensors))), ("HOOKS", hooks), ("STEPS", steps),
                           ("INITS", inits), ("AGG", aggregator["name"] + "_")):
            source = source.replace(f"@{key}@", value)
        driver = build_fleet_program(fleet, sensors + [aggregator["name"]], source,
                                     self.tmp / "build", STRICT)
        return driver, sensors

    def check_selection(self, topology, expected_order_checks, keyed=False):
        path = self.tmp / "topology.json"
        path.write_text(json.dumps(topology))
        fleet = self.compile_fleet(path, keyed)
        driver, sensors = self.build_driver(fleet, topology)

        # The rule's inputs, each from its source: groups per head from the compiler's report
        # (checked against the HAR naming, activity_<groups>), priorities from the topology,
        # output order from the model.
        model_outputs = [o.name for o in onnx.load(str(HAR / "model.onnx")).graph.output]
        priorities = {h["output"]: h.get("priority", 0) for h in topology["heads"]}
        report = json.loads((fleet / "report.json").read_text())
        heads = []
        for entry in report["heads"]:
            groups = set(entry["groups"])
            self.assertEqual(groups, set(entry["output"].removeprefix("activity_").split("_")))
            heads.append({"output": entry["output"], "groups": groups,
                          "priority": priorities[entry["output"]],
                          "model_index": model_outputs.index(entry["output"])})
        self.assertEqual({h["output"] for h in heads}, set(priorities))
        for arrived, head in expected_order_checks:
            self.assertEqual(expected_head(set(arrived), heads), head, arrived)

        owned = {d["name"]: set(d.get("sensors", [])) for d in topology["devices"]}
        header = (fleet / report["fleet"]["aggregator"] / "fleet.h").read_text()
        group_bit = {name: 1 << int(bit) for bit, name in
                     re.findall(r"#define \w+_GROUP_\w+ \(1u << (\d+)\) /\* '([^']*)' \*/", header)}
        self.assertEqual(set(group_bit), set(topology["sensor_groups"]))

        seen_subsets, seen_heads, abandoned = set(), set(), 0
        for seed in (1, 2):
            result = subprocess.run([str(driver), str(ROUNDS), str(seed)], capture_output=True,
                                    text=True)
            self.assertEqual(result.returncode, 0, result.stdout[-2000:] + result.stderr)
            lines = result.stdout.splitlines()
            self.assertEqual(len(lines), ROUNDS)
            for line in lines:
                round_index, delivered, head, arrived_mask, newer = line.split()
                arrived = set()
                for index, name in enumerate(sensors):
                    if int(delivered) >> index & 1:
                        arrived |= owned[name]
                expected = expected_head(arrived, heads)
                self.assertEqual(None if head == "-" else head, expected,
                                 f"seed {seed} round {round_index}: arrived {sorted(arrived)}")
                self.assertEqual(int(arrived_mask), sum(group_bit[g] for g in arrived), line)
                seen_subsets.add(frozenset(arrived))
                seen_heads.add(expected)
                abandoned += int(newer)
        groups = list(topology["sensor_groups"])
        every_subset = {frozenset(c) for n in range(len(groups) + 1)
                        for c in itertools.combinations(groups, n)}
        self.assertEqual(seen_subsets, every_subset)
        self.assertEqual(seen_heads, {h["output"] for h in heads} | {None})
        self.assertGreater(abandoned, 0)  # rounds overtaken by a frame of the next one

    def test_har_example_fleet(self):
        topology = json.loads((HAR / "topology.json").read_text())
        self.check_selection(topology, [
            (["wrist", "ankle", "chest"], "activity_wrist_ankle_chest"),
            (["wrist", "chest"], "activity_wrist_chest"),
            ([], None),
        ])

    def test_priorities_then_model_output_order(self):
        """Heads listed out of model order with priorities that decide between heads of as many
        groups; chest sends its raw data in 9 encrypted fragments, so devices arrive partly."""
        topology = json.loads((HAR / "topology.json").read_text())
        chest = next(d for d in topology["devices"] if d["name"] == "chest")
        # RAM for the raw input, a frame and this stack, not for the branch's activations.
        chest.update({"ram_kib": 1, "costs": {"stack_bytes": 600}})
        for link in topology["links"]:
            link["mtu"] = 64
        topology["heads"] = [
            {"output": "activity_chest"},
            {"output": "activity_wrist"},
            {"output": "activity_ankle", "priority": 5},
            {"output": "activity_wrist_ankle", "priority": 1},
            {"output": "activity_ankle_chest", "priority": 2},
        ]
        self.check_selection(topology, [
            (["wrist", "ankle", "chest"], "activity_ankle_chest"),  # priority 2 over 1
            (["wrist", "chest"], "activity_wrist"),  # equal priority: model output order
            (["ankle", "chest"], "activity_ankle_chest"),
            (["wrist", "ankle"], "activity_wrist_ankle"),
        ], keyed=True)
        report = json.loads((self.tmp / "fleet" / "report.json").read_text())
        chest_link = next(link for link in report["links"] if link["from"] == "chest")
        self.assertGreater(chest_link["frames_per_inference"], 1)

// fuzz_wire: the receiver of runtime-c/src/wire.c (and its sender) against a second
// implementation of docs/wire.md written here. An input is a script: its first byte picks the
// configuration (a receiver with or without a key; the compiler's slot geometry or one made of
// input bytes, consistent or not), every following op feeds frames or queries the receiver:
// arbitrary bytes, well-formed fragments altered in chosen ways (flipped bytes with or without
// a recomputed CRC or tag, truncated, extended, tagged under another key, tag added or removed),
// frames built field by field, replays of earlier frames, whole tensors from es_wire_send_tensor
// delivered in a shuffled order, and resets. After every frame the result code, the counters,
// the current sequence and each slot's state must be what the model predicts; a frame accepted
// against it (bad CRC, fingerprint, length, tag or sequence, or a replay) aborts with the reason.
// The runtime's promise of no allocation is checked too, by malloc hooks when ASan is present.
#include "es_wire.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_WIRE_MALLOC_HOOKS 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_WIRE_MALLOC_HOOKS 1
#endif
#ifdef FUZZ_WIRE_MALLOC_HOOKS
// Both ASan runtimes (gcc's and clang's) define this hook; only clang ships the header declaring it.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*mallocHook)(const volatile void *, size_t),
                                                         void (*freeHook)(const volatile void *));
#endif

namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint32_t kFingerprint = 0x5eed1234u;
constexpr uint8_t kKey[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                              0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
constexpr uint8_t kOtherKey[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xfe};
constexpr size_t kHeader = 20, kTag = 8, kCrc = 4;
constexpr size_t kMaxOps = 512, kHistory = 32;

[[noreturn]] void finding(const std::string &what) {
  std::fprintf(stderr, "fuzz_wire: %s\n", what.c_str());
  std::abort();
}

// ---- Allocation watch: the runtime must not allocate ---------------------------------------

bool inRuntime = false;

#ifdef FUZZ_WIRE_MALLOC_HOOKS
void onMalloc(const volatile void *, size_t size) {
  if (inRuntime) finding("the runtime allocated " + std::to_string(size) + " bytes");
}
void onFree(const volatile void *) {
  if (inRuntime) finding("the runtime freed memory");
}
[[maybe_unused]] const int hooksInstalled = __sanitizer_install_malloc_and_free_hooks(onMalloc, onFree);
#endif

// Marks a call into wire.c: any allocation until it returns is a finding.
class RuntimeCall {
public:
  RuntimeCall() : outer_(inRuntime) { inRuntime = true; }
  ~RuntimeCall() { inRuntime = outer_; }

private:
  bool outer_;
};

// ---- The input, read as a script -----------------------------------------------------------

class Script {
public:
  Script(const uint8_t *data, size_t size) : data_(data), size_(size) {}
  bool done() const { return at_ >= size_; }
  uint8_t u8() { return at_ < size_ ? data_[at_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() | u8() << 8); }
  uint32_t u32() { return u16() | uint32_t(u16()) << 16; }
  // `count` bytes, zeros once the input runs out.
  Bytes take(size_t count) {
    Bytes out(count, 0);
    const size_t available = std::min(count, size_ - std::min(at_, size_));
    if (available > 0) std::memcpy(out.data(), data_ + at_, available);
    at_ += available;
    return out;
  }

private:
  const uint8_t *data_;
  size_t size_, at_ = 0;
};

// ---- docs/wire.md, written again ------------------------------------------------------------

uint32_t crc32(const uint8_t *data, size_t len) { // bit by bit, unlike wire.c's nibble table
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1u) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
  }
  return ~crc;
}

uint32_t le(const uint8_t *at, int bytes) {
  uint32_t value = 0;
  for (int i = 0; i < bytes; ++i) value |= uint32_t(at[i]) << (8 * i);
  return value;
}

void putLE(Bytes &out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void putAt(Bytes &out, size_t at, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out[at + i] = static_cast<uint8_t>(value >> (8 * i));
}

// SipHash is checked against the reference vectors by tests/runtime/WireTests.cpp; the model uses
// it as a primitive and checks everything built on it.
uint64_t tagOf(const uint8_t *key, const uint8_t *data, size_t len) {
  RuntimeCall call;
  return es_siphash24(key, data, len);
}

struct Fields {
  uint8_t magic0 = 'E', magic1 = 'S', version = 1, flags = 0;
  uint32_t fingerprint = kFingerprint, seq = 0;
  uint8_t source = 0, tensor = 0;
  uint16_t index = 0, count = 1, payloadLength = 0;
};

// Header and payload, then a tag under `key` when it is not null, then the CRC.
Bytes encode(const Fields &f, const Bytes &payload, const uint8_t *key) {
  Bytes out{f.magic0, f.magic1, f.version, f.flags};
  putLE(out, f.fingerprint, 4);
  putLE(out, f.seq, 4);
  out.push_back(f.source);
  out.push_back(f.tensor);
  putLE(out, f.index, 2);
  putLE(out, f.count, 2);
  putLE(out, f.payloadLength, 2);
  out.insert(out.end(), payload.begin(), payload.end());
  if (key != nullptr) putLE(out, tagOf(key, out.data(), out.size()), 8);
  putLE(out, crc32(out.data(), out.size()), 4);
  return out;
}

void resealCrc(Bytes &frame) {
  if (frame.size() < kCrc) return;
  putAt(frame, frame.size() - kCrc, crc32(frame.data(), frame.size() - kCrc), 4);
}

void resealTag(Bytes &frame, const uint8_t *key) {
  if (frame.size() < kHeader + kTag + kCrc) return;
  const size_t tagAt = frame.size() - kCrc - kTag;
  putAt(frame, tagAt, tagOf(key, frame.data(), tagAt), 8);
  resealCrc(frame);
}

const char *codeName(int code) {
  static const char *const names[] = {"ACCEPTED",        "DUPLICATE",  "BAD_HEADER",
                                      "BAD_CRC",         "BAD_AUTH",   "BAD_FINGERPRINT",
                                      "BAD_LENGTH",      "UNKNOWN_TENSOR", "STALE"};
  return code >= 0 && code <= ES_WIRE_STALE ? names[code] : "?";
}

struct SlotGeometry {
  uint8_t source, tensor;
  uint16_t fragmentCount, fragmentBytes;
  uint32_t bytes;
};

// What the receiver must hold: per slot, the fragments arrived this round and their bytes.
struct ModelSlot {
  SlotGeometry geometry;
  std::vector<bool> arrived;
  Bytes data;
  size_t arrivedCount = 0;
};

class Model {
public:
  Model(const std::vector<SlotGeometry> &geometry, bool keyed) : keyed_(keyed) {
    for (const SlotGeometry &g : geometry)
      slots_.push_back({g, std::vector<bool>(g.fragmentCount, false), Bytes(g.bytes, 0), 0});
  }

  bool hasSeq() const { return hasSeq_; }
  uint32_t seq() const { return seq_; }
  const std::vector<ModelSlot> &slots() const { return slots_; }
  const std::array<uint32_t, ES_WIRE_STALE + 1> &counts() const { return counts_; }

  void reset() {
    hasSeq_ = false;
    seq_ = 0;
    forget();
  }

  // The docs' checks in their order; on acceptance the model's state moves as the receiver's must.
  int receive(const Bytes &frame, std::string &why) {
    const int code = judge(frame, why);
    ++counts_[code];
    return code;
  }

  bool complete(const ModelSlot &slot, uint32_t seq) const {
    return hasSeq_ && seq_ == seq && slot.geometry.fragmentCount > 0 &&
           slot.arrivedCount == slot.geometry.fragmentCount;
  }

private:
  int judge(const Bytes &f, std::string &why) {
    const size_t len = f.size();
    if (len < kHeader + kCrc || f[0] != 'E' || f[1] != 'S' || f[2] != 1 || (f[3] & 0xFEu) != 0)
      return why = "header", ES_WIRE_BAD_HEADER;
    if (le(&f[len - kCrc], 4) != crc32(f.data(), len - kCrc)) return why = "crc", ES_WIRE_BAD_CRC;
    const bool tagged = (f[3] & 1u) != 0;
    if (keyed_) {
      if (!tagged || len < kHeader + kTag + kCrc)
        return why = "missing tag", ES_WIRE_BAD_AUTH;
      const size_t tagAt = len - kCrc - kTag;
      uint64_t tag = 0;
      for (int i = 0; i < 8; ++i) tag |= uint64_t(f[tagAt + i]) << (8 * i);
      if (tag != tagOf(kKey, f.data(), tagAt)) return why = "wrong tag", ES_WIRE_BAD_AUTH;
    } else if (tagged) {
      return why = "tag without a key", ES_WIRE_BAD_AUTH;
    }
    if (le(&f[4], 4) != kFingerprint) return why = "fingerprint", ES_WIRE_BAD_FINGERPRINT;
    const uint32_t seq = le(&f[8], 4);
    const uint8_t source = f[12], tensor = f[13];
    const uint32_t index = le(&f[14], 2), count = le(&f[16], 2), payload = le(&f[18], 2);
    if (len != kHeader + payload + (tagged ? kTag : 0) + kCrc || count == 0 || index >= count)
      return why = "frame length/index/count", ES_WIRE_BAD_LENGTH;
    ModelSlot *slot = nullptr;
    for (ModelSlot &candidate : slots_)
      if (candidate.geometry.source == source && candidate.geometry.tensor == tensor) {
        slot = &candidate;
        break;
      }
    if (slot == nullptr) return why = "no slot", ES_WIRE_UNKNOWN_TENSOR;
    const SlotGeometry &g = slot->geometry;
    const uint64_t offset = uint64_t(index) * g.fragmentBytes;
    if (count != g.fragmentCount || offset > g.bytes)
      return why = "slot count/offset", ES_WIRE_BAD_LENGTH;
    const uint64_t expected = index + 1 < g.fragmentCount ? g.fragmentBytes : g.bytes - offset;
    if (payload != expected || offset + payload > g.bytes)
      return why = "slot payload length", ES_WIRE_BAD_LENGTH;
    if (hasSeq_) {
      const uint32_t ahead = seq - seq_;
      if (ahead >= 0x80000000u) return why = "older sequence", ES_WIRE_STALE;
      if (ahead != 0) {
        seq_ = seq;
        forget();
      }
    } else {
      hasSeq_ = true;
      seq_ = seq;
      forget();
    }
    if (slot->arrived[index]) return why = "fragment already stored", ES_WIRE_DUPLICATE;
    slot->arrived[index] = true;
    ++slot->arrivedCount;
    std::copy(f.begin() + kHeader, f.begin() + kHeader + payload, slot->data.begin() + offset);
    return why = "valid", ES_WIRE_ACCEPTED;
  }

  void forget() {
    for (ModelSlot &slot : slots_) {
      std::fill(slot.arrived.begin(), slot.arrived.end(), false);
      slot.arrivedCount = 0;
    }
  }

  bool keyed_;
  bool hasSeq_ = false;
  uint32_t seq_ = 0;
  std::vector<ModelSlot> slots_;
  std::array<uint32_t, ES_WIRE_STALE + 1> counts_{};
};

// ---- The receiver under test, its buffers exactly as large as the slots say -----------------

struct Harness {
  std::vector<SlotGeometry> geometry;
  std::vector<Bytes> data, bitmaps;
  std::vector<es_wire_slot_t> slots;
  es_wire_receiver_t receiver{};
  bool keyed = false;
  Model model;
  std::deque<Bytes> history;

  Harness(const std::vector<SlotGeometry> &g, bool withKey)
      : geometry(g), keyed(withKey), model(g, withKey) {
    for (const SlotGeometry &s : geometry) {
      data.emplace_back(s.bytes);
      bitmaps.emplace_back((size_t(s.fragmentCount) + 7) / 8);
    }
    for (size_t i = 0; i < geometry.size(); ++i) {
      const SlotGeometry &s = geometry[i];
      slots.push_back({s.source, s.tensor, s.fragmentCount, s.fragmentBytes, s.bytes,
                       data[i].empty() ? nullptr : data[i].data(),
                       bitmaps[i].empty() ? nullptr : bitmaps[i].data(), 0});
    }
    receiver.fingerprint = kFingerprint;
    receiver.key = withKey ? kKey : nullptr;
    receiver.slots = slots.data();
    receiver.slot_count = static_cast<uint16_t>(slots.size());
  }

  void deliver(const Bytes &frame) {
    std::string why;
    const int expected = model.receive(frame, why);
    int got;
    {
      RuntimeCall call;
      got = es_wire_receive(&receiver, frame.empty() ? nullptr : frame.data(), frame.size());
    }
    if (got != expected) {
      std::string hex;
      for (size_t i = 0; i < frame.size() && i < 64; ++i) {
        char byte[4];
        std::snprintf(byte, sizeof byte, "%02x", frame[i]);
        hex += byte;
      }
      finding(std::string(got == ES_WIRE_ACCEPTED ? "accepted a frame it must drop"
                                                  : "wrong verdict") +
              ": got " + codeName(got) + ", docs/wire.md says " + codeName(expected) + " (" +
              why + "); " + std::to_string(frame.size()) + " bytes: " + hex);
    }
    if (got == ES_WIRE_ACCEPTED) {
      const uint32_t source = frame[12], tensor = frame[13], index = le(&frame[14], 2);
      for (size_t i = 0; i < slots.size(); ++i)
        if (geometry[i].source == source && geometry[i].tensor == tensor) {
          const size_t offset = size_t(index) * geometry[i].fragmentBytes;
          const size_t payload = le(&frame[18], 2);
          if (payload > 0 && std::memcmp(data[i].data() + offset, &frame[kHeader], payload) != 0)
            finding("an accepted payload was not stored where its fragment belongs");
          break;
        }
    }
    if (history.size() == kHistory) history.pop_front();
    history.push_back(frame);
    checkState();
  }

  void checkState() {
    const es_wire_counters_t &c = receiver.counters;
    const std::array<uint32_t, ES_WIRE_STALE + 1> counts = {
        c.accepted, c.duplicate,       c.bad_header, c.bad_crc, c.bad_auth,
        c.bad_fingerprint, c.bad_length, c.unknown_tensor, c.stale};
    if (counts != model.counts()) finding("the counters disagree with the verdicts");
    if (bool(receiver.has_seq) != model.hasSeq() || (model.hasSeq() && receiver.seq != model.seq()))
      finding("the current sequence is not the newest accepted one");
    for (size_t i = 0; i < slots.size(); ++i) {
      const ModelSlot &expected = model.slots()[i];
      if (slots[i].received_count != expected.arrivedCount)
        finding("slot " + std::to_string(i) + " counts the wrong number of fragments");
      int complete;
      {
        RuntimeCall call;
        complete = es_wire_slot_complete(&receiver, &slots[i], model.seq());
      }
      if (bool(complete) != model.complete(expected, model.seq()))
        finding("slot " + std::to_string(i) + " completeness disagrees with the fragments");
    }
  }

  void checkCompleteFor(uint32_t seq) {
    for (size_t i = 0; i < slots.size(); ++i) {
      int complete;
      {
        RuntimeCall call;
        complete = es_wire_slot_complete(&receiver, &slots[i], seq);
      }
      if (bool(complete) != model.complete(model.slots()[i], seq))
        finding("es_wire_slot_complete answers for a sequence other than the current one");
    }
  }

  void checkData() {
    for (size_t i = 0; i < slots.size(); ++i) {
      const ModelSlot &expected = model.slots()[i];
      const SlotGeometry &g = geometry[i];
      for (size_t k = 0; k < g.fragmentCount; ++k) {
        if (!expected.arrived[k]) continue;
        const size_t offset = k * g.fragmentBytes;
        const size_t end = k + 1 < g.fragmentCount ? offset + g.fragmentBytes : g.bytes;
        if (!std::equal(data[i].begin() + offset, data[i].begin() + end,
                        expected.data.begin() + offset))
          finding("slot " + std::to_string(i) + " holds bytes no accepted fragment carried");
      }
    }
  }

  void reset() {
    {
      RuntimeCall call;
      es_wire_receiver_reset(&receiver);
    }
    model.reset();
    checkState();
  }
};

// The compiler's geometry (fragment sizes from each sender's mtu and key), or one read from the
// input: a receiver must stay in bounds even with slots no compiler would emit.
std::vector<SlotGeometry> chooseGeometry(Script &script, bool fromInput, bool keyed) {
  if (!fromInput) {
    struct Sender {
      uint8_t source, tensor;
      uint16_t mtu;
      uint32_t bytes;
    };
    // Several fragments, one fragment, an empty tensor, and a bitmap of several bytes.
    const Sender senders[] = {{1, 0, 64, 100}, {1, 1, 64, 7}, {2, 0, 64, 0}, {3, 5, 40, 300}};
    std::vector<SlotGeometry> result;
    for (const Sender &s : senders) {
      const uint16_t fragmentBytes = static_cast<uint16_t>(s.mtu - (keyed ? 32 : 24));
      const uint32_t count = s.bytes == 0 ? 1 : (s.bytes + fragmentBytes - 1) / fragmentBytes;
      result.push_back({s.source, s.tensor, static_cast<uint16_t>(count), fragmentBytes, s.bytes});
    }
    return result;
  }
  std::vector<SlotGeometry> result(1 + script.u8() % 4);
  for (SlotGeometry &g : result) {
    g.source = script.u8() % 4;
    g.tensor = script.u8() % 4;
    g.fragmentCount = script.u16() % 600;
    g.fragmentBytes = script.u16();
    g.bytes = script.u16() % 8192;
  }
  return result;
}

std::vector<Bytes> *captured = nullptr;

void capture(uint8_t, const uint8_t *frame, size_t len) {
  const bool outer = inRuntime;
  inRuntime = false; // the harness's own copy may allocate
  captured->emplace_back(frame, frame + len);
  inRuntime = outer;
}

uint32_t chooseSeq(Script &script, const Harness &h) {
  const uint8_t pick = script.u8();
  if (pick == 0x7F) return script.u32();
  return h.model.seq() + static_cast<uint32_t>(static_cast<int8_t>(pick));
}

// Payload of fragment `index` of a slot as its sender would cut it.
size_t payloadOf(const SlotGeometry &g, uint32_t index) {
  const uint64_t offset = uint64_t(index) * g.fragmentBytes;
  if (offset > g.bytes) return 0;
  return index + 1u < g.fragmentCount ? g.fragmentBytes : static_cast<size_t>(g.bytes - offset);
}

// A fragment of a known slot, then altered as the script says.
Bytes fragment(Script &script, Harness &h) {
  const SlotGeometry &g = h.geometry[script.u8() % h.geometry.size()];
  Fields f;
  f.seq = chooseSeq(script, h);
  f.source = g.source;
  f.tensor = g.tensor;
  const uint8_t pick = script.u8();
  f.index = pick < 0xF0 && g.fragmentCount > 0 ? pick % g.fragmentCount : script.u16();
  f.count = g.fragmentCount;
  const size_t payload = std::min<size_t>(payloadOf(g, f.index), 1024);
  f.payloadLength = static_cast<uint16_t>(payload);
  f.flags = h.keyed ? 1 : 0;
  const Bytes content = script.take(payload);
  const uint8_t alteration = script.u8();
  Bytes frame = encode(f, content, h.keyed ? kKey : nullptr);
  const size_t at = script.u16() % frame.size();
  const uint8_t flip = static_cast<uint8_t>(script.u8() | 1u);
  switch (alteration % 8) {
  case 0: break;
  case 1: frame[at] ^= flip; break; // noise
  case 2: frame[at] ^= flip; resealCrc(frame); break; // an outsider fixing the CRC
  case 3: frame[at] ^= flip; resealTag(frame, kKey); break; // an insider holding the key
  case 4: frame.resize(frame.size() - std::min<size_t>(frame.size(), 1 + at % 16)); resealCrc(frame); break;
  case 5: {
    const Bytes extra = script.take(1 + at % 16);
    frame.insert(frame.end() - std::min<size_t>(frame.size(), kCrc), extra.begin(), extra.end());
    resealCrc(frame);
    break;
  }
  case 6: f.flags = 1; frame = encode(f, content, kOtherKey); break; // forged with another key
  default: f.flags ^= 1; frame = encode(f, content, f.flags ? kKey : nullptr); break;
  }
  return frame;
}

// Every header field from the input, the CRC (and the tag when flagged) right: reaches the checks
// behind the CRC with values no sender would write.
Bytes fieldByField(Script &script) {
  Fields f;
  const uint8_t wrong = script.u8();
  if (wrong & 1) f.magic0 = script.u8();
  if (wrong & 2) f.version = script.u8();
  if (wrong & 4) f.fingerprint = script.u32();
  f.flags = script.u8() & ((wrong & 8) ? 0xFF : 0x01);
  f.seq = script.u32();
  f.source = script.u8() % 4;
  f.tensor = script.u8() % 8;
  f.index = script.u16();
  f.count = script.u16();
  f.payloadLength = script.u16();
  const size_t actual = (wrong & 16) ? script.u16() % 1100 : std::min<size_t>(f.payloadLength, 1100);
  return encode(f, script.take(actual), (f.flags & 1) ? kKey : nullptr);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Script script(data, size);
  const uint8_t config = script.u8();
  const bool keyed = config & 1;
  Harness h(chooseGeometry(script, config & 2, keyed), keyed);
  h.checkState();
  for (size_t op = 0; op < kMaxOps && !script.done(); ++op) {
    switch (script.u8() % 8) {
    case 0: h.deliver(script.take(script.u16() % 1200)); break;
    case 1:
    case 2: h.deliver(fragment(script, h)); break;
    case 3:
      if (!h.history.empty()) h.deliver(Bytes(h.history[script.u8() % h.history.size()]));
      break;
    case 4: h.reset(); break;
    case 5: {
      // A whole tensor as es_wire_send_tensor cuts it, delivered rotated and maybe reversed.
      const SlotGeometry &g = h.geometry[script.u8() % h.geometry.size()];
      const uint32_t seq = chooseSeq(script, h);
      const Bytes tensor = script.take(g.bytes);
      const size_t overhead = h.keyed ? 32 : 24;
      // A bound on the frames keeps each input fast; a tensor of thousands of fragments adds
      // nothing a few dozen do not.
      if (g.fragmentBytes + overhead > 0xFFFF || g.bytes > 64u * g.fragmentBytes) break;
      Bytes scratch(g.fragmentBytes + overhead);
      const es_wire_sender_t sender = {kFingerprint, g.source, 0,
                                       static_cast<uint16_t>(scratch.size()),
                                       h.keyed ? kKey : nullptr, scratch.data(), capture};
      std::vector<Bytes> frames;
      captured = &frames;
      uint32_t sent;
      {
        RuntimeCall call;
        sent = es_wire_send_tensor(&sender, seq, g.tensor, tensor.data(), tensor.size());
      }
      captured = nullptr;
      if (sent != frames.size()) finding("es_wire_send_tensor miscounts the frames it sent");
      if (frames.empty()) break;
      const uint8_t order = script.u8();
      std::rotate(frames.begin(), frames.begin() + order % frames.size(), frames.end());
      if (order & 0x80) std::reverse(frames.begin(), frames.end());
      for (const Bytes &frame : frames) h.deliver(frame);
      break;
    }
    case 6: h.checkCompleteFor(chooseSeq(script, h)); break;
    default: h.deliver(fieldByField(script)); break;
    }
  }
  h.checkData();
  return 0;
}

// fuzz_wire: the receiver of runtime-c/src/wire.c (and its sender) against a second
// implementation of docs/wire.md written here. An input is a script: its first byte picks the
// configuration (the links' mode: plain, tag only or AEAD, each source under its own key; the
// compiler's slot geometry or one made of input bytes, consistent or not), every following op
// feeds frames or queries the receiver: arbitrary bytes, well-formed fragments altered in chosen
// ways (flipped bytes with or without a recomputed CRC or tag, truncated, extended, tagged under
// another source's key, another mode), frames built field by field, replays of earlier frames,
// whole tensors from es_wire_send_tensor delivered in a shuffled order, and resets. After every
// frame the result code, the counters, the current round and each slot's state (decrypted
// bytes included) must be what the model predicts; a frame accepted against it (bad CRC,
// fingerprint, length, tag or round, or a replay) aborts with the reason.
// The runtime's promise of no allocation is checked too, by malloc hooks when ASan is present.
#include "es_aead.h"
#include "es_wire.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <set>
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
constexpr size_t kHeader = 16, kTag = 16, kCrc = 4, kFingerprintBytes = 4;
constexpr size_t kMaxOps = 512, kHistory = 32;

// The link key of a source: distinct per source, as the compiler's HKDF makes them.
const uint8_t *keyOf(uint8_t source) {
  static uint8_t keys[256][32];
  static bool made = false;
  if (!made) {
    for (int s = 0; s < 256; ++s)
      for (int i = 0; i < 32; ++i) keys[s][i] = static_cast<uint8_t>(s * 131 + i * 29 + 7);
    made = true;
  }
  return keys[source];
}

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

// ChaCha20-Poly1305 is checked against RFC 8439 and OpenSSL by tests/runtime/AeadTests.cpp; the
// model uses it as a primitive and checks everything built on it.
void tagOf(const uint8_t *key, const uint8_t nonce[12], const Bytes &aad, const uint8_t *cipher,
           size_t len, uint8_t tag[16]) {
  RuntimeCall call;
  es_aead_tag(key, nonce, aad.data(), aad.size(), nullptr, 0, cipher, len, tag);
}

void xorStream(const uint8_t *key, const uint8_t nonce[12], const uint8_t *in, uint8_t *out,
               size_t len) {
  RuntimeCall call;
  es_chacha20_xor(key, 1, nonce, in, out, len);
}

struct Fields {
  uint8_t magic = 0xE2, flags = 0, source = 0, tensor = 0;
  uint16_t frame = 0, senderEpoch = 0;
  uint32_t epoch = 0, round = 0;
};

uint8_t flagsOf(int mode) {
  return mode == ES_WIRE_AEAD ? 3 : mode == ES_WIRE_AUTH ? 1 : 0;
}

void nonceOf(const uint8_t *header, uint8_t nonce[12]) {
  std::memcpy(nonce, header + 8, 8);
  std::memcpy(nonce + 8, header + 6, 2);
  std::memcpy(nonce + 10, header + 4, 2);
}

// Header and payload, then fingerprint and CRC (mode plain), or the tag under `key` with the
// payload encrypted (AEAD) or in clear (tag only). The flags are the frame's own.
Bytes encode(const Fields &f, const Bytes &payload, int mode, const uint8_t *key,
             uint32_t fingerprint = kFingerprint) {
  Bytes out{f.magic, f.flags, f.source, f.tensor};
  putLE(out, f.frame, 2);
  putLE(out, f.senderEpoch, 2);
  putLE(out, f.epoch, 4);
  putLE(out, f.round, 4);
  if (mode == ES_WIRE_PLAIN) {
    out.insert(out.end(), payload.begin(), payload.end());
    putLE(out, fingerprint, 4);
    putLE(out, crc32(out.data(), out.size()), 4);
    return out;
  }
  uint8_t nonce[12], tag[16];
  nonceOf(out.data(), nonce);
  Bytes aad;
  putLE(aad, fingerprint, 4);
  aad.insert(aad.end(), out.begin(), out.end());
  Bytes body = payload;
  if (mode == ES_WIRE_AEAD && !body.empty()) xorStream(key, nonce, body.data(), body.data(), body.size());
  if (mode == ES_WIRE_AUTH) aad.insert(aad.end(), body.begin(), body.end());
  tagOf(key, nonce, aad, mode == ES_WIRE_AEAD ? body.data() : nullptr,
        mode == ES_WIRE_AEAD ? body.size() : 0, tag);
  out.insert(out.end(), body.begin(), body.end());
  out.insert(out.end(), tag, tag + 16);
  return out;
}

void resealCrc(Bytes &frame) {
  if (frame.size() < kCrc) return;
  putAt(frame, frame.size() - kCrc, crc32(frame.data(), frame.size() - kCrc), 4);
}

// The tag of an edited keyed frame recomputed under `key` (an insider holding that key).
void resealTag(Bytes &frame, int mode, const uint8_t *key) {
  if (frame.size() < kHeader + kTag) return;
  const size_t payload = frame.size() - kHeader - kTag;
  uint8_t nonce[12], tag[16];
  nonceOf(frame.data(), nonce);
  Bytes aad;
  putLE(aad, kFingerprint, 4);
  aad.insert(aad.end(), frame.begin(), frame.begin() + long(kHeader + (mode == ES_WIRE_AEAD ? 0 : payload)));
  tagOf(key, nonce, aad, mode == ES_WIRE_AEAD ? frame.data() + kHeader : nullptr,
        mode == ES_WIRE_AEAD ? payload : 0, tag);
  std::copy(tag, tag + 16, frame.end() - 16);
}

const char *codeName(int code) {
  static const char *const names[] = {"ACCEPTED",        "DUPLICATE",  "BAD_HEADER",
                                      "BAD_CRC",         "BAD_AUTH",   "BAD_FINGERPRINT",
                                      "BAD_LENGTH",      "UNKNOWN_TENSOR", "STALE"};
  return code >= 0 && code <= ES_WIRE_STALE ? names[code] : "?";
}

struct SlotGeometry {
  uint8_t source, tensor;
  uint16_t firstFrame, fragmentCount, fragmentBytes;
  uint32_t bytes;
};

constexpr unsigned kLanes = ES_WIRE_ROUNDS_IN_FLIGHT;

// What the receiver must hold: per slot and lane, the fragments arrived and their bytes.
struct ModelSlot {
  SlotGeometry geometry;
  std::array<std::vector<bool>, kLanes> arrived;
  std::array<Bytes, kLanes> data;
  std::array<size_t, kLanes> arrivedCount{};
};

uint64_t roundOf(uint32_t epoch, uint32_t round) { return uint64_t(epoch) << 32 | round; }

struct ModelLane {
  uint64_t round = 0;
  bool open = false;
};

class Model {
public:
  Model(const std::vector<SlotGeometry> &geometry, int mode) : mode_(mode) {
    for (const SlotGeometry &g : geometry) {
      ModelSlot slot;
      slot.geometry = g;
      for (unsigned l = 0; l < kLanes; ++l) {
        slot.arrived[l].assign(g.fragmentCount, false);
        slot.data[l].assign(g.bytes, 0);
      }
      slots_.push_back(slot);
      sources_.insert(g.source);
    }
  }

  const std::array<ModelLane, kLanes> &lanes() const { return lanes_; }
  const std::vector<ModelSlot> &slots() const { return slots_; }
  const std::array<uint32_t, ES_WIRE_STALE + 1> &counts() const { return counts_; }

  void reset() {
    for (unsigned l = 0; l < kLanes; ++l) {
      lanes_[l].open = false;
      forget(l);
    }
  }

  // docs/wire.md: a round newer than every open one takes a closed lane, else the oldest's.
  bool open(uint64_t round) {
    for (const ModelLane &lane : lanes_)
      if (lane.open && lane.round >= round) return false;
    unsigned chosen = 0;
    for (unsigned l = 1; l < kLanes; ++l) {
      if (!lanes_[chosen].open) break;
      if (!lanes_[l].open || lanes_[l].round < lanes_[chosen].round) chosen = l;
    }
    forget(chosen);
    lanes_[chosen] = {round, true};
    return true;
  }

  void close(uint64_t round) {
    const int l = laneOf(round);
    if (l >= 0) lanes_[l].open = false;
  }

  int laneOf(uint64_t round) const {
    for (unsigned l = 0; l < kLanes; ++l)
      if (lanes_[l].open && lanes_[l].round == round) return int(l);
    return -1;
  }

  // The docs' checks in their order; on acceptance the model's state moves as the receiver's must.
  int receive(const Bytes &frame, std::string &why) {
    const int code = judge(frame, why);
    ++counts_[code];
    return code;
  }

  bool complete(const ModelSlot &slot, uint64_t round) const {
    const int l = laneOf(round);
    return l >= 0 && slot.geometry.fragmentCount > 0 &&
           slot.arrivedCount[l] == slot.geometry.fragmentCount;
  }

private:
  int judge(const Bytes &f, std::string &why) {
    const size_t len = f.size();
    if (len < kHeader + kFingerprintBytes + kCrc || f[0] != 0xE2 || (f[1] & ~3u) != 0)
      return why = "header", ES_WIRE_BAD_HEADER;
    const uint8_t source = f[2], tensor = f[3];
    if (!sources_.count(source)) return why = "no such source", ES_WIRE_UNKNOWN_TENSOR;
    const size_t overhead = mode_ == ES_WIRE_PLAIN ? kHeader + kFingerprintBytes + kCrc : kHeader + kTag;
    if (f[1] != flagsOf(mode_) || len < overhead) return why = "another mode", ES_WIRE_BAD_AUTH;
    const size_t payload = len - overhead;
    Bytes plain(f.begin() + kHeader, f.begin() + long(kHeader + payload));
    if (mode_ == ES_WIRE_PLAIN) {
      if (le(&f[len - kCrc], 4) != crc32(f.data(), len - kCrc)) return why = "crc", ES_WIRE_BAD_CRC;
      if (le(&f[len - kCrc - 4], 4) != kFingerprint) return why = "fingerprint", ES_WIRE_BAD_FINGERPRINT;
    } else {
      // Re-encode the payload as its source would have under its key: the tags must agree.
      Fields fields{f[0], f[1], source, tensor, uint16_t(le(&f[4], 2)), uint16_t(le(&f[6], 2)),
                    le(&f[8], 4), le(&f[12], 4)};
      if (mode_ == ES_WIRE_AEAD) {
        uint8_t nonce[12];
        nonceOf(f.data(), nonce);
        if (!plain.empty()) xorStream(keyOf(source), nonce, plain.data(), plain.data(), plain.size());
      }
      if (encode(fields, plain, mode_, keyOf(source)) != f) return why = "wrong tag", ES_WIRE_BAD_AUTH;
    }
    ModelSlot *slot = nullptr;
    for (ModelSlot &candidate : slots_)
      if (candidate.geometry.source == source && candidate.geometry.tensor == tensor) {
        slot = &candidate;
        break;
      }
    if (slot == nullptr) return why = "no slot", ES_WIRE_UNKNOWN_TENSOR;
    const SlotGeometry &g = slot->geometry;
    const uint32_t number = le(&f[4], 2);
    if (number < g.firstFrame || number - g.firstFrame >= g.fragmentCount)
      return why = "frame number", ES_WIRE_BAD_LENGTH;
    const uint32_t index = number - g.firstFrame;
    const uint64_t offset = uint64_t(index) * g.fragmentBytes;
    if (offset > g.bytes) return why = "slot offset", ES_WIRE_BAD_LENGTH;
    const uint64_t expected = index + 1 < g.fragmentCount ? g.fragmentBytes : g.bytes - offset;
    if (payload != expected || offset + payload > g.bytes)
      return why = "slot payload length", ES_WIRE_BAD_LENGTH;
    const int l = laneOf(roundOf(le(&f[8], 4), le(&f[12], 4)));
    if (l < 0) return why = "round not open", ES_WIRE_STALE;
    if (slot->arrived[l][index]) return why = "fragment already stored", ES_WIRE_DUPLICATE;
    slot->arrived[l][index] = true;
    ++slot->arrivedCount[l];
    std::copy(plain.begin(), plain.end(), slot->data[l].begin() + long(offset));
    return why = "valid", ES_WIRE_ACCEPTED;
  }

  void forget(unsigned l) {
    for (ModelSlot &slot : slots_) {
      std::fill(slot.arrived[l].begin(), slot.arrived[l].end(), false);
      slot.arrivedCount[l] = 0;
    }
  }

  int mode_;
  std::array<ModelLane, kLanes> lanes_{};
  std::vector<ModelSlot> slots_;
  std::set<uint8_t> sources_;
  std::array<uint32_t, ES_WIRE_STALE + 1> counts_{};
};

// ---- The receiver under test, its buffers exactly as large as the slots say -----------------

struct Harness {
  std::vector<SlotGeometry> geometry;
  std::vector<Bytes> data, bitmaps;
  std::vector<es_wire_slot_t> slots;
  std::vector<es_wire_source_t> sources;
  es_wire_receiver_t receiver{};
  int mode;
  Model model;
  std::deque<Bytes> history;

  Harness(const std::vector<SlotGeometry> &g, int linkMode)
      : geometry(g), mode(linkMode), model(g, linkMode) {
    std::set<uint8_t> seen;
    for (const SlotGeometry &s : geometry) {
      data.emplace_back(kLanes * size_t(s.bytes));
      bitmaps.emplace_back(kLanes * ((size_t(s.fragmentCount) + 7) / 8));
      if (seen.insert(s.source).second)
        sources.push_back({s.source, uint8_t(mode), mode == ES_WIRE_PLAIN ? nullptr : keyOf(s.source)});
    }
    for (size_t i = 0; i < geometry.size(); ++i) {
      const SlotGeometry &s = geometry[i];
      slots.push_back({s.source, s.tensor, s.firstFrame, s.fragmentCount, s.fragmentBytes, s.bytes,
                       data[i].empty() ? nullptr : data[i].data(),
                       bitmaps[i].empty() ? nullptr : bitmaps[i].data(), {0, 0}});
    }
    receiver.fingerprint = kFingerprint;
    receiver.sources = sources.data();
    receiver.source_count = static_cast<uint16_t>(sources.size());
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
    if (history.size() == kHistory) history.pop_front();
    history.push_back(frame);
    checkState();
    checkData();
  }

  void checkState() {
    const es_wire_counters_t &c = receiver.counters;
    const std::array<uint32_t, ES_WIRE_STALE + 1> counts = {
        c.accepted, c.duplicate,       c.bad_header, c.bad_crc, c.bad_auth,
        c.bad_fingerprint, c.bad_length, c.unknown_tensor, c.stale};
    if (counts != model.counts()) finding("the counters disagree with the verdicts");
    for (unsigned l = 0; l < kLanes; ++l) {
      const ModelLane &lane = model.lanes()[l];
      if (bool(receiver.lanes[l].open) != lane.open ||
          (lane.open && roundOf(receiver.lanes[l].epoch, receiver.lanes[l].round) != lane.round))
        finding("the open rounds are not the ones opened");
    }
    for (size_t i = 0; i < slots.size(); ++i) {
      const ModelSlot &expected = model.slots()[i];
      for (unsigned l = 0; l < kLanes; ++l)
        if (slots[i].received_count[l] != expected.arrivedCount[l])
          finding("slot " + std::to_string(i) + " counts the wrong number of fragments");
      for (const ModelLane &lane : model.lanes()) checkCompleteFor(lane.round);
    }
  }

  void checkCompleteFor(uint64_t round) {
    for (size_t i = 0; i < slots.size(); ++i) {
      int complete;
      {
        RuntimeCall call;
        complete = es_wire_slot_complete(&receiver, &slots[i], uint32_t(round >> 32), uint32_t(round));
      }
      if (bool(complete) != model.complete(model.slots()[i], round))
        finding("es_wire_slot_complete disagrees with the fragments and the open rounds");
    }
  }

  // Every fragment the model holds is in its lane of the slot, decrypted.
  void checkData() {
    for (size_t i = 0; i < slots.size(); ++i) {
      const ModelSlot &expected = model.slots()[i];
      const SlotGeometry &g = geometry[i];
      for (unsigned l = 0; l < kLanes; ++l)
        for (size_t k = 0; k < g.fragmentCount; ++k) {
          if (!expected.arrived[l][k]) continue;
          const size_t offset = k * g.fragmentBytes;
          const size_t end = k + 1 < g.fragmentCount ? offset + g.fragmentBytes : g.bytes;
          const auto lane = data[i].begin() + long(l * size_t(g.bytes));
          if (!std::equal(lane + long(offset), lane + long(end), expected.data[l].begin() + long(offset)))
            finding("slot " + std::to_string(i) + " holds bytes no accepted fragment carried");
        }
    }
  }

  void open(uint32_t epoch, uint32_t round) {
    int opened;
    {
      RuntimeCall call;
      opened = es_wire_open_round(&receiver, epoch, round);
    }
    if (bool(opened) != model.open(roundOf(epoch, round)))
      finding("es_wire_open_round disagrees on whether the round is newer than every open one");
    checkState();
  }

  void close(uint32_t epoch, uint32_t round) {
    {
      RuntimeCall call;
      es_wire_close_round(&receiver, epoch, round);
    }
    model.close(roundOf(epoch, round));
    checkState();
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

// The compiler's geometry (fragment sizes from each sender's mtu and mode, frame numbers running
// on over a sender's tensors), or one read from the input: a receiver must stay in bounds even
// with slots no compiler would emit.
std::vector<SlotGeometry> chooseGeometry(Script &script, bool fromInput, int mode) {
  if (!fromInput) {
    struct Sender {
      uint8_t source, tensor;
      uint16_t mtu;
      uint32_t bytes;
    };
    // Several fragments, one fragment, an empty tensor, and a bitmap of several bytes.
    const Sender senders[] = {{1, 0, 64, 100}, {1, 1, 64, 7}, {2, 0, 64, 0}, {3, 5, 40, 300}};
    std::vector<SlotGeometry> result;
    uint16_t next[256] = {};
    for (const Sender &s : senders) {
      const uint16_t fragmentBytes = static_cast<uint16_t>(s.mtu - ES_WIRE_OVERHEAD_BYTES(mode));
      const uint32_t count = s.bytes == 0 ? 1 : (s.bytes + fragmentBytes - 1) / fragmentBytes;
      result.push_back({s.source, s.tensor, next[s.source], static_cast<uint16_t>(count),
                        fragmentBytes, s.bytes});
      next[s.source] = static_cast<uint16_t>(next[s.source] + count);
    }
    return result;
  }
  std::vector<SlotGeometry> result(1 + script.u8() % 4);
  for (SlotGeometry &g : result) {
    g.source = script.u8() % 4;
    g.tensor = script.u8() % 4;
    g.firstFrame = script.u8();
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

// A round near an open one, or any.
void chooseRound(Script &script, const Harness &h, uint32_t &epoch, uint32_t &round) {
  const uint8_t pick = script.u8();
  if (pick == 0x7F) {
    epoch = script.u32();
    round = script.u32();
    return;
  }
  const uint64_t base = h.model.lanes()[pick & 1].round;
  const uint64_t chosen = base + static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(pick) >> 1));
  epoch = uint32_t(chosen >> 32);
  round = uint32_t(chosen);
}

// Payload of fragment `index` of a slot as its sender would cut it.
size_t payloadOf(const SlotGeometry &g, uint32_t index) {
  const uint64_t offset = uint64_t(index) * g.fragmentBytes;
  if (offset > g.bytes) return 0;
  return index + 1u < g.fragmentCount ? g.fragmentBytes : static_cast<size_t>(g.bytes - offset);
}

int otherMode(int mode, uint8_t pick) { return (mode + 1 + pick % 2) % 3; }

// A fragment of a known slot, then altered as the script says.
Bytes fragment(Script &script, Harness &h) {
  const SlotGeometry &g = h.geometry[script.u8() % h.geometry.size()];
  Fields f;
  chooseRound(script, h, f.epoch, f.round);
  f.source = g.source;
  f.tensor = g.tensor;
  f.senderEpoch = script.u16();
  const uint8_t pick = script.u8();
  const uint32_t index = pick < 0xF0 && g.fragmentCount > 0 ? pick % g.fragmentCount : script.u16();
  f.frame = static_cast<uint16_t>(g.firstFrame + index);
  const size_t payload = std::min<size_t>(payloadOf(g, index), 1024);
  f.flags = flagsOf(h.mode);
  const Bytes content = script.take(payload);
  const uint8_t alteration = script.u8();
  const uint8_t *key = keyOf(g.source);
  Bytes frame = encode(f, content, h.mode, key);
  const size_t at = script.u16() % frame.size();
  const uint8_t flip = static_cast<uint8_t>(script.u8() | 1u);
  switch (alteration % 8) {
  case 0: break;
  case 1: frame[at] ^= flip; break; // noise
  case 2: frame[at] ^= flip; resealCrc(frame); break; // an outsider fixing the CRC
  case 3: frame[at] ^= flip; if (h.mode != ES_WIRE_PLAIN) resealTag(frame, h.mode, key); break; // an insider
  case 4: frame.resize(frame.size() - std::min<size_t>(frame.size(), 1 + at % 16)); resealCrc(frame); break;
  case 5: {
    const Bytes extra = script.take(1 + at % 16);
    frame.insert(frame.end() - std::min<size_t>(frame.size(), kCrc), extra.begin(), extra.end());
    resealCrc(frame);
    break;
  }
  case 6: frame = encode(f, content, h.mode == ES_WIRE_PLAIN ? ES_WIRE_AEAD : h.mode, keyOf(uint8_t(g.source + 1))); break; // another source's key
  default: {
    const int other = otherMode(h.mode, flip);
    f.flags = flagsOf(other);
    frame = encode(f, content, other, key); // a downgrade, or a mode the link does not use
    break;
  }
  }
  return frame;
}

// Every header field from the input, the CRC or tag right for the flags it carries: reaches the
// checks behind them with values no sender would write.
Bytes fieldByField(Script &script) {
  Fields f;
  const uint8_t wrong = script.u8();
  if (wrong & 1) f.magic = script.u8();
  f.flags = script.u8() & ((wrong & 8) ? 0xFF : 0x03);
  f.source = script.u8() % 4;
  f.tensor = script.u8() % 8;
  f.frame = script.u16();
  f.senderEpoch = script.u16();
  f.epoch = (wrong & 2) ? script.u32() : 0;
  f.round = script.u32();
  const size_t actual = script.u16() % 1100;
  const int mode = (f.flags & 3) == 3 ? ES_WIRE_AEAD : (f.flags & 1) ? ES_WIRE_AUTH : ES_WIRE_PLAIN;
  return encode(f, script.take(actual), mode, keyOf(f.source),
                (wrong & 4) ? script.u32() : kFingerprint);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Script script(data, size);
  const uint8_t config = script.u8();
  const int mode = config % 3;
  Harness h(chooseGeometry(script, (config / 3) & 1, mode), mode);
  h.checkState();
  for (size_t op = 0; op < kMaxOps && !script.done(); ++op) {
    switch (script.u8() % 8) {
    case 0: h.deliver(script.take(script.u16() % 1200)); break;
    case 1:
    case 2: h.deliver(fragment(script, h)); break;
    case 3:
      if (!h.history.empty()) h.deliver(Bytes(h.history[script.u8() % h.history.size()]));
      break;
    case 4: {
      const uint8_t what = script.u8();
      uint32_t epoch, round;
      chooseRound(script, h, epoch, round);
      if (what % 4 == 0) h.reset();
      else if (what % 4 == 3) h.close(epoch, round);
      else h.open(epoch, round);
      break;
    }
    case 5: {
      // A sender's round as es_wire_send_tensor cuts it, delivered rotated and maybe reversed.
      const SlotGeometry &g = h.geometry[script.u8() % h.geometry.size()];
      uint32_t epoch, round;
      chooseRound(script, h, epoch, round);
      const Bytes tensor = script.take(g.bytes);
      const size_t overhead = ES_WIRE_OVERHEAD_BYTES(h.mode);
      // A bound on the frames keeps each input fast; a tensor of thousands of fragments adds
      // nothing a few dozen do not.
      if (g.fragmentBytes + overhead > 0xFFFF || g.bytes > 64u * g.fragmentBytes) break;
      Bytes scratch(g.fragmentBytes + overhead);
      es_wire_sender_t sender{};
      sender.fingerprint = kFingerprint;
      sender.source = g.source;
      sender.mtu = static_cast<uint16_t>(scratch.size());
      sender.mode = static_cast<uint8_t>(h.mode);
      sender.key = h.mode == ES_WIRE_PLAIN ? nullptr : keyOf(g.source);
      sender.sender_epoch = script.u16();
      sender.frame = scratch.data();
      sender.send = capture;
      std::vector<Bytes> frames;
      captured = &frames;
      uint32_t sent;
      {
        RuntimeCall call;
        es_wire_begin_round(&sender, epoch, round);
        sender.next_frame = g.firstFrame;
        sent = es_wire_send_tensor(&sender, g.tensor, tensor.data(), tensor.size());
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
    case 6: {
      uint32_t epoch, round;
      chooseRound(script, h, epoch, round);
      h.checkCompleteFor(roundOf(epoch, round));
      break;
    }
    default: h.deliver(fieldByField(script)); break;
    }
  }
  h.checkData();
  return 0;
}

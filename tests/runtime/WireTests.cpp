// The wire format of fleet messages (runtime-c/src/wire.c, docs/wire.md): the checksums against
// published values, the sender against an encoder written here from the documented layout, and the
// receiver against every way a frame can be wrong. Receivers reassemble into buffers fenced by
// guard bytes, so a write outside a slot shows up even without a sanitizer.
#include "es_wire.h"

#include <catch.hpp>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>
#include <utility>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

const uint8_t kKey[16] = {0x3a, 0x91, 0x0c, 0x5e, 0xd2, 0x47, 0x88, 0x1b,
                          0xf0, 0x66, 0x29, 0xb4, 0x7d, 0x03, 0xce, 0x55};
const uint8_t kOtherKey[16] = {0x3a, 0x91, 0x0c, 0x5e, 0xd2, 0x47, 0x88, 0x1b,
                               0xf0, 0x66, 0x29, 0xb4, 0x7d, 0x03, 0xce, 0x54};
const uint32_t kFingerprint = 0x5eed1234u;
const uint8_t kGuardByte = 0xA5;
const size_t kGuardBytes = 16;

// ---- An encoder written from docs/wire.md, independent of wire.c's ----------------------------

void putLE(Bytes &out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

uint32_t getLE32(const uint8_t *at) {
  return uint32_t(at[0]) | uint32_t(at[1]) << 8 | uint32_t(at[2]) << 16 | uint32_t(at[3]) << 24;
}

struct Header {
  uint8_t magic0 = 'E';
  uint8_t magic1 = 'S';
  uint8_t version = 1;
  uint8_t flags = 0;
  uint32_t fingerprint = kFingerprint;
  uint32_t seq = 1;
  uint8_t source = 0;
  uint8_t tensor = 0;
  uint16_t index = 0;
  uint16_t count = 1;
  uint16_t payloadLength = 0;
};

// Header and payload, then the tag when key is not null, then the CRC.
Bytes seal(Bytes content, const uint8_t *key) {
  if (key != nullptr) putLE(content, es_siphash24(key, content.data(), content.size()), 8);
  putLE(content, es_crc32(content.data(), content.size()), 4);
  return content;
}

Bytes encode(const Header &h, const Bytes &payload, const uint8_t *key) {
  Bytes out;
  out.push_back(h.magic0);
  out.push_back(h.magic1);
  out.push_back(h.version);
  out.push_back(h.flags);
  putLE(out, h.fingerprint, 4);
  putLE(out, h.seq, 4);
  out.push_back(h.source);
  out.push_back(h.tensor);
  putLE(out, h.index, 2);
  putLE(out, h.count, 2);
  putLE(out, h.payloadLength, 2);
  out.insert(out.end(), payload.begin(), payload.end());
  return seal(out, key);
}

// Recomputes the tag (when key is not null: the frame's last 12 bytes are tag and CRC) and CRC of
// an edited frame, so that only the edit itself is wrong.
Bytes reseal(const Bytes &frame, const uint8_t *key) {
  const size_t trailer = key != nullptr ? 12 : 4;
  return seal(Bytes(frame.begin(), frame.end() - static_cast<long>(trailer)), key);
}

uint32_t crcBitwise(const uint8_t *data, size_t len) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// ---- The sending side ---------------------------------------------------------------------------

struct Sent {
  uint8_t link;
  Bytes frame;
};
std::vector<Sent> g_sent;

void recordFrame(uint8_t link, const uint8_t *frame, size_t len) {
  g_sent.push_back({link, Bytes(frame, frame + len)});
}

struct SendResult {
  uint32_t returned;
  std::vector<Bytes> frames;
};

SendResult sendTensor(uint8_t source, uint16_t mtu, const uint8_t *key, uint32_t seq,
                      uint8_t tensor, const Bytes &data, uint32_t fingerprint = kFingerprint) {
  Bytes scratch(mtu); // exactly mtu bytes: ASan sees a frame built past its end
  es_wire_sender_t sender{fingerprint, source, 7, mtu, key, scratch.data(), recordFrame};
  g_sent.clear();
  SendResult result;
  result.returned =
      es_wire_send_tensor(&sender, seq, tensor, data.empty() ? nullptr : data.data(), data.size());
  for (const Sent &sent : g_sent) {
    CHECK(sent.link == 7);
    result.frames.push_back(sent.frame);
  }
  return result;
}

Bytes randomBytes(std::mt19937 &rng, size_t n) {
  Bytes out(n);
  std::uniform_int_distribution<int> byte(0, 255);
  for (uint8_t &b : out) b = static_cast<uint8_t>(byte(rng));
  return out;
}

// ---- The receiving side -------------------------------------------------------------------------

uint16_t overhead(bool auth) { return auth ? 32 : 24; }

struct SlotSpec {
  uint8_t source;
  uint8_t tensor;
  uint32_t bytes;
  uint16_t mtu; // of the sender: fixes fragment_bytes and fragment_count
};

// A receiver with one slot per spec; slot geometry computed here from the documented formulas.
class Fleet {
public:
  Fleet(const uint8_t *key, const std::vector<SlotSpec> &specs, uint32_t fingerprint = kFingerprint)
      : data_(specs.size()), bitmaps_(specs.size()) {
    slots_.resize(specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      const uint16_t fragmentBytes = static_cast<uint16_t>(specs[i].mtu - overhead(key != nullptr));
      const uint32_t count =
          specs[i].bytes == 0 ? 1 : (specs[i].bytes + fragmentBytes - 1) / fragmentBytes;
      REQUIRE(count <= 65535);
      init(i, specs[i].source, specs[i].tensor, static_cast<uint16_t>(count), fragmentBytes,
           specs[i].bytes);
    }
    receiver = es_wire_receiver_t{};
    receiver.fingerprint = fingerprint;
    receiver.key = key;
    receiver.slots = slots_.data();
    receiver.slot_count = static_cast<uint16_t>(slots_.size());
  }
  Fleet(const Fleet &) = delete;
  Fleet &operator=(const Fleet &) = delete;

  // Any geometry, consistent or not.
  void init(size_t i, uint8_t source, uint8_t tensor, uint16_t count, uint16_t fragmentBytes,
            uint32_t bytes) {
    data_[i].assign(bytes + 2 * kGuardBytes, kGuardByte);
    bitmaps_[i].assign((count + 7u) / 8u + 2 * kGuardBytes, kGuardByte);
    std::fill(bitmaps_[i].begin() + kGuardBytes, bitmaps_[i].end() - kGuardBytes, 0);
    std::fill(data_[i].begin() + kGuardBytes, data_[i].end() - kGuardBytes, 0);
    es_wire_slot_t &slot = slots_[i];
    slot.source = source;
    slot.tensor = tensor;
    slot.fragment_count = count;
    slot.fragment_bytes = fragmentBytes;
    slot.bytes = bytes;
    slot.data = data_[i].data() + kGuardBytes;
    slot.received = bitmaps_[i].data() + kGuardBytes;
    slot.received_count = 0;
  }

  int receive(const Bytes &frame) {
    // A copy of exactly the frame's length: ASan sees any read past it.
    const Bytes exact(frame);
    return es_wire_receive(&receiver, exact.empty() ? nullptr : exact.data(), exact.size());
  }
  es_wire_slot_t &slot(size_t i) { return slots_[i]; }
  Bytes tensor(size_t i) const {
    return Bytes(data_[i].begin() + kGuardBytes, data_[i].end() - kGuardBytes);
  }
  bool complete(size_t i, uint32_t seq) const {
    return es_wire_slot_complete(&receiver, &slots_[i], seq) != 0;
  }
  bool guardsIntact() const {
    for (size_t i = 0; i < slots_.size(); ++i) {
      for (const Bytes *buffer : {&data_[i], &bitmaps_[i]}) {
        for (size_t g = 0; g < kGuardBytes; ++g)
          if ((*buffer)[g] != kGuardByte || (*buffer)[buffer->size() - 1 - g] != kGuardByte)
            return false;
      }
    }
    return true;
  }

  es_wire_receiver_t receiver;

private:
  std::vector<es_wire_slot_t> slots_;
  std::vector<Bytes> data_;
  std::vector<Bytes> bitmaps_;
};

uint32_t totalCounted(const es_wire_counters_t &c) {
  return c.accepted + c.duplicate + c.bad_header + c.bad_crc + c.bad_auth + c.bad_fingerprint +
         c.bad_length + c.unknown_tensor + c.stale;
}

uint32_t counterOf(const es_wire_counters_t &c, int code) {
  switch (code) {
  case ES_WIRE_ACCEPTED:
    return c.accepted;
  case ES_WIRE_DUPLICATE:
    return c.duplicate;
  case ES_WIRE_BAD_HEADER:
    return c.bad_header;
  case ES_WIRE_BAD_CRC:
    return c.bad_crc;
  case ES_WIRE_BAD_AUTH:
    return c.bad_auth;
  case ES_WIRE_BAD_FINGERPRINT:
    return c.bad_fingerprint;
  case ES_WIRE_BAD_LENGTH:
    return c.bad_length;
  case ES_WIRE_UNKNOWN_TENSOR:
    return c.unknown_tensor;
  case ES_WIRE_STALE:
    return c.stale;
  default:
    FAIL("unknown code " << code);
    return 0;
  }
}

// Feeds a frame that must be rejected with `code`: the matching counter moves by one, no other,
// and nothing about the reassembly changes.
void expectRejected(Fleet &fleet, const Bytes &frame, int code) {
  const es_wire_counters_t before = fleet.receiver.counters;
  const uint32_t seqBefore = fleet.receiver.seq;
  const uint8_t hadSeq = fleet.receiver.has_seq;
  std::vector<uint16_t> countsBefore;
  std::vector<Bytes> dataBefore;
  for (uint16_t i = 0; i < fleet.receiver.slot_count; ++i) {
    countsBefore.push_back(fleet.slot(i).received_count);
    dataBefore.push_back(fleet.tensor(i));
  }
  CHECK(fleet.receive(frame) == code);
  CHECK(counterOf(fleet.receiver.counters, code) == counterOf(before, code) + 1);
  CHECK(totalCounted(fleet.receiver.counters) == totalCounted(before) + 1);
  CHECK(fleet.receiver.has_seq == hadSeq);
  CHECK(fleet.receiver.seq == seqBefore);
  for (uint16_t i = 0; i < fleet.receiver.slot_count; ++i) {
    CHECK(fleet.slot(i).received_count == countsBefore[i]);
    CHECK(fleet.tensor(i) == dataBefore[i]);
  }
}

// The 64 SipHash-2-4 vectors of the reference implementation (github.com/veorq/SipHash,
// vectors.h, vectors_sip64 read as little-endian u64): key 00 01 .. 0f, message 00 01 .. (n-1).
const uint64_t kSipHashVectors[64] = {
    0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
    0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
    0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
    0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
    0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
    0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
    0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
    0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
    0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
    0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
    0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
    0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
    0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
    0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
    0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
    0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572};

} // namespace

// ---- Checksums ----------------------------------------------------------------------------------

TEST_CASE("CRC-32 gives the published check values and agrees with a bitwise CRC", "[wire]") {
  const char *check = "123456789";
  CHECK(es_crc32(reinterpret_cast<const uint8_t *>(check), 9) == 0xCBF43926u);
  CHECK(es_crc32(nullptr, 0) == 0x00000000u);
  CHECK(es_crc32(reinterpret_cast<const uint8_t *>("a"), 1) == 0xE8B7BE43u);
  const char *fox = "The quick brown fox jumps over the lazy dog";
  CHECK(es_crc32(reinterpret_cast<const uint8_t *>(fox), std::strlen(fox)) == 0x414FA339u);

  std::mt19937 rng(1234);
  const Bytes buffer = randomBytes(rng, 1100);
  // Every prefix length, and every start offset (alignment) for a few of them.
  for (size_t len = 0; len <= buffer.size(); ++len)
    REQUIRE(es_crc32(buffer.data(), len) == crcBitwise(buffer.data(), len));
  for (size_t start = 1; start < 8; ++start)
    CHECK(es_crc32(buffer.data() + start, 300) == crcBitwise(buffer.data() + start, 300));

  // Appending a message's CRC little-endian leaves the CRC-32 residue: the property the receiver
  // relies on when it checks a frame's last four bytes.
  for (size_t len : {0u, 1u, 7u, 20u, 255u, 1000u}) {
    Bytes message(buffer.begin(), buffer.begin() + static_cast<long>(len));
    putLE(message, es_crc32(message.data(), message.size()), 4);
    CHECK(es_crc32(message.data(), message.size()) == 0x2144DF1Cu);
  }

  // Every single-bit error of a frame-sized message changes the CRC.
  Bytes message(buffer.begin(), buffer.begin() + 300);
  const uint32_t clean = es_crc32(message.data(), message.size());
  for (size_t i = 0; i < message.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      message[i] ^= static_cast<uint8_t>(1u << bit);
      REQUIRE(es_crc32(message.data(), message.size()) != clean);
      message[i] ^= static_cast<uint8_t>(1u << bit);
    }
  }
}

TEST_CASE("SipHash-2-4 gives the reference implementation's 64 test vectors", "[wire]") {
  uint8_t key[16];
  for (int i = 0; i < 16; ++i) key[i] = static_cast<uint8_t>(i);
  uint8_t message[64];
  for (int i = 0; i < 64; ++i) message[i] = static_cast<uint8_t>(i);
  // The same messages one byte further on, to read them from an odd address as well.
  uint8_t shifted[65] = {};
  for (int i = 0; i < 64; ++i) shifted[i + 1] = static_cast<uint8_t>(i);
  for (size_t n = 0; n < 64; ++n) {
    INFO("message of " << n << " bytes");
    CHECK(es_siphash24(key, message, n) == kSipHashVectors[n]);
    CHECK(es_siphash24(key, shifted + 1, n) == kSipHashVectors[n]);
  }
  CHECK(es_siphash24(key, nullptr, 0) == 0x726fdb47dd0e0e31u);
  // The key matters, all 128 bits of it.
  for (int i = 0; i < 16; ++i) {
    uint8_t other[16];
    std::memcpy(other, key, 16);
    other[i] ^= 0x80;
    CHECK(es_siphash24(other, message, 15) != kSipHashVectors[15]);
  }
}

// ---- Sending ------------------------------------------------------------------------------------

TEST_CASE("send emits the documented frame layout byte for byte", "[wire]") {
  std::mt19937 rng(7);
  const Bytes tensor = randomBytes(rng, 100);
  for (const uint8_t *key : {static_cast<const uint8_t *>(nullptr), kKey}) {
    INFO((key ? "with key" : "without key"));
    const uint16_t mtu = 64;
    const uint16_t fragmentBytes = static_cast<uint16_t>(mtu - overhead(key != nullptr));
    const SendResult sent = sendTensor(9, mtu, key, 0xA1B2C3D4u, 42, tensor);
    const uint16_t count = static_cast<uint16_t>((100 + fragmentBytes - 1) / fragmentBytes);
    REQUIRE(sent.returned == count);
    REQUIRE(sent.frames.size() == count);
    for (uint16_t i = 0; i < count; ++i) {
      Header h;
      h.flags = key ? 1 : 0;
      h.seq = 0xA1B2C3D4u;
      h.source = 9;
      h.tensor = 42;
      h.index = i;
      h.count = count;
      const size_t begin = size_t(i) * fragmentBytes;
      const size_t end = std::min<size_t>(100, begin + fragmentBytes);
      h.payloadLength = static_cast<uint16_t>(end - begin);
      const Bytes payload(tensor.begin() + static_cast<long>(begin),
                          tensor.begin() + static_cast<long>(end));
      CHECK(sent.frames[i] == encode(h, payload, key));
      CHECK(sent.frames[i].size() <= mtu);
    }
    // Spot checks of the little-endian fields, should the encoder above share a mistake.
    const Bytes &first = sent.frames[0];
    CHECK(first[0] == 0x45);
    CHECK(first[1] == 0x53);
    CHECK(first[2] == 1);
    CHECK(first[4] == 0x34);
    CHECK(first[7] == 0x5e);
    CHECK(first[8] == 0xD4);
    CHECK(first[11] == 0xA1);
    CHECK(first[16] == count);
    CHECK(first[17] == 0);
    CHECK(first[18] == fragmentBytes);
    CHECK(getLE32(first.data() + first.size() - 4) == es_crc32(first.data(), first.size() - 4));
  }
}

TEST_CASE("fragment count and bytes on air are what send emits", "[wire]") {
  std::mt19937 rng(99);
  const Bytes tensor = randomBytes(rng, 700);
  for (int auth = 0; auth <= 1; ++auth) {
    const uint8_t *key = auth ? kKey : nullptr;
    for (uint16_t mtu : {0, 20, 24, 25, 31, 32, 33, 40, 64, 255, 300}) {
      for (size_t len : {0u, 1u, 2u, 7u, 8u, 9u, 31u, 100u, 231u, 232u, 233u, 699u, 700u}) {
        INFO("auth " << auth << ", mtu " << mtu << ", len " << len);
        const uint32_t over = overhead(auth);
        const uint32_t expected =
            mtu <= over ? 0 : (len == 0 ? 1 : uint32_t((len + (mtu - over) - 1) / (mtu - over)));
        CHECK(es_wire_fragment_count(len, mtu, auth) == expected);
        const SendResult sent =
            sendTensor(1, mtu, key, 5, 2, Bytes(tensor.begin(), tensor.begin() + long(len)));
        size_t onAir = 0;
        for (const Bytes &frame : sent.frames) onAir += frame.size();
        CHECK(sent.returned == sent.frames.size());
        CHECK(sent.frames.size() == es_wire_fragment_count(len, mtu, auth));
        CHECK(onAir == es_wire_frame_bytes(len, mtu, auth));
        CHECK(es_wire_frame_bytes(len, mtu, auth) == (expected ? len + expected * over : 0));
      }
    }
  }
}

TEST_CASE("send refuses a link too small and a tensor of more than 65535 fragments", "[wire]") {
  // mtu 25 without key leaves one payload byte per frame.
  const Bytes most(65535, 0x11), tooMany(65536, 0x22);
  CHECK(es_wire_fragment_count(most.size(), 25, 0) == 65535);
  CHECK(es_wire_frame_bytes(most.size(), 25, 0) == 65535u * 25u);
  SendResult sent = sendTensor(1, 25, nullptr, 1, 1, most);
  CHECK(sent.returned == 65535);
  CHECK(sent.frames.size() == 65535);
  CHECK(sent.frames.back()[14] == 0xFE); // index 65534
  CHECK(sent.frames.back()[15] == 0xFF);

  CHECK(es_wire_fragment_count(tooMany.size(), 25, 0) == 0);
  CHECK(es_wire_frame_bytes(tooMany.size(), 25, 0) == 0);
  sent = sendTensor(1, 25, nullptr, 1, 1, tooMany);
  CHECK(sent.returned == 0);
  CHECK(sent.frames.empty());

  for (uint16_t mtu : {0, 24, 32}) {
    sent = sendTensor(1, mtu, kKey, 1, 1, Bytes(10, 0x33));
    CHECK(sent.returned == 0);
    CHECK(sent.frames.empty());
  }
  // The largest link: 65535 frames of 65535 bytes still fit the uint32_t count of bytes on air.
  const size_t largest = size_t(65535) * (65535 - 24);
  CHECK(es_wire_fragment_count(largest, 65535, 0) == 65535);
  CHECK(es_wire_frame_bytes(largest, 65535, 0) == 65535u * 65535u);
  CHECK(es_wire_fragment_count(largest + 1, 65535, 0) == 0);

  // No scratch or no radio: nothing sent, nothing written.
  Bytes scratch(64);
  es_wire_sender_t sender{kFingerprint, 1, 0, 64, nullptr, nullptr, recordFrame};
  g_sent.clear();
  CHECK(es_wire_send_tensor(&sender, 1, 1, most.data(), 10) == 0);
  sender.frame = scratch.data();
  sender.send = nullptr;
  CHECK(es_wire_send_tensor(&sender, 1, 1, most.data(), 10) == 0);
  CHECK(g_sent.empty());
}

// ---- Round trips --------------------------------------------------------------------------------

TEST_CASE("random tensors survive out-of-order and duplicated delivery", "[wire]") {
  std::mt19937 rng(2024);
  std::uniform_int_distribution<int> lengthOf(1, 2000), mtuOf(31, 300), coin(0, 1);
  std::uniform_int_distribution<uint32_t> seqOf;
  for (int round = 0; round < 300; ++round) {
    const bool auth = coin(rng) != 0;
    const uint8_t *key = auth ? kKey : nullptr;
    // mtu 31 with a key leaves no payload: the sender refuses it, so such rounds use 33.
    uint16_t mtu = static_cast<uint16_t>(mtuOf(rng));
    if (mtu <= overhead(auth)) mtu = static_cast<uint16_t>(overhead(auth) + 1);
    const uint32_t seq = seqOf(rng);
    // Two senders share the receiver and the round's sequence, as sensor MCUs do.
    const Bytes a = randomBytes(rng, size_t(lengthOf(rng)));
    const Bytes b = randomBytes(rng, size_t(lengthOf(rng)));
    INFO("round " << round << ": mtu " << mtu << ", auth " << auth << ", lengths " << a.size()
                  << " and " << b.size());
    Fleet fleet(key, {{3, 7, uint32_t(a.size()), mtu}, {4, 7, uint32_t(b.size()), mtu}});
    const SendResult sentA = sendTensor(3, mtu, key, seq, 7, a);
    const SendResult sentB = sendTensor(4, mtu, key, seq, 7, b);
    REQUIRE(sentA.returned == fleet.slot(0).fragment_count);
    REQUIRE(sentB.returned == fleet.slot(1).fragment_count);

    // (slot, frame) in a shuffled order, about a third of them delivered twice.
    std::vector<std::pair<size_t, const Bytes *>> delivery;
    for (const Bytes &f : sentA.frames) delivery.push_back({0, &f});
    for (const Bytes &f : sentB.frames) delivery.push_back({1, &f});
    const size_t distinct = delivery.size();
    for (size_t i = 0; i < distinct; ++i)
      if (rng() % 3 == 0) delivery.push_back(delivery[rng() % distinct]);
    std::shuffle(delivery.begin(), delivery.end(), rng);

    std::set<const Bytes *> seen;
    size_t arrived[2] = {0, 0};
    for (const auto &[slot, frame] : delivery) {
      CHECK(frame->size() <= mtu);
      const bool first = seen.insert(frame).second;
      REQUIRE(fleet.receive(*frame) == (first ? ES_WIRE_ACCEPTED : ES_WIRE_DUPLICATE));
      if (first) ++arrived[slot];
      for (size_t s = 0; s < 2; ++s)
        REQUIRE(fleet.complete(s, seq) == (arrived[s] == fleet.slot(s).fragment_count));
    }
    CHECK(fleet.tensor(0) == a);
    CHECK(fleet.tensor(1) == b);
    CHECK(fleet.receiver.counters.accepted == distinct);
    CHECK(fleet.receiver.counters.duplicate == delivery.size() - distinct);
    CHECK(totalCounted(fleet.receiver.counters) == delivery.size());
    CHECK(fleet.guardsIntact());
  }
}

// ---- Rejections ---------------------------------------------------------------------------------

TEST_CASE("every single-byte corruption of a frame is rejected and counted", "[wire]") {
  std::mt19937 rng(31337);
  const Bytes tensor = randomBytes(rng, 150);
  for (const uint8_t *key : {static_cast<const uint8_t *>(nullptr), kKey}) {
    INFO((key ? "with key" : "without key"));
    Fleet fleet(key, {{5, 1, 150, 80}});
    const SendResult sent = sendTensor(5, 80, key, 77, 1, tensor);
    REQUIRE(sent.frames.size() >= 3);
    // Fragment 0 of the same sequence first, so a corrupted fragment 1 would be stored if it
    // slipped through.
    REQUIRE(fleet.receive(sent.frames[0]) == ES_WIRE_ACCEPTED);
    const Bytes &victim = sent.frames[1];
    for (size_t at = 0; at < victim.size(); ++at) {
      for (uint8_t flip : {0x01, 0x02, 0x10, 0x5A, 0x80, 0xFF}) {
        INFO("byte " << at << " xor " << int(flip));
        Bytes corrupt = victim;
        corrupt[at] ^= flip;
        // Magic, version and unknown flag bits fail the header check; anything else, the CRC
        // (which catches every error within 32 bits) before the tag is looked at.
        const bool header = at < 3 || (at == 3 && (flip & ~1) != 0);
        expectRejected(fleet, corrupt, header ? ES_WIRE_BAD_HEADER : ES_WIRE_BAD_CRC);
      }
    }
    CHECK(fleet.slot(0).received_count == 1);
    for (size_t i = 1; i < sent.frames.size(); ++i)
      CHECK(fleet.receive(sent.frames[i]) == ES_WIRE_ACCEPTED);
    CHECK(fleet.complete(0, 77));
    CHECK(fleet.tensor(0) == tensor);
    CHECK(fleet.guardsIntact());
  }
}

TEST_CASE("foreign, malformed and inconsistent frames get their own code", "[wire]") {
  std::mt19937 rng(5);
  const Bytes tensor = randomBytes(rng, 100);
  for (const uint8_t *key : {static_cast<const uint8_t *>(nullptr), kKey}) {
    INFO((key ? "with key" : "without key"));
    const bool auth = key != nullptr;
    const uint16_t mtu = 64;
    const uint16_t fragmentBytes = static_cast<uint16_t>(mtu - overhead(auth)); // 40 or 32
    Fleet fleet(key, {{2, 9, 100, mtu}});
    const uint16_t count = fleet.slot(0).fragment_count; // 3 or 4
    const uint16_t lastBytes = static_cast<uint16_t>(100 - (count - 1) * fragmentBytes);
    Header h;
    h.flags = auth ? 1 : 0;
    h.seq = 50;
    h.source = 2;
    h.tensor = 9;
    h.count = count;
    h.payloadLength = fragmentBytes;
    const Bytes payload(tensor.begin(), tensor.begin() + fragmentBytes);
    const Bytes valid = encode(h, payload, key);

    // Another model's frames.
    Header other = h;
    other.fingerprint = kFingerprint ^ 1u;
    expectRejected(fleet, encode(other, payload, key), ES_WIRE_BAD_FINGERPRINT);
    expectRejected(fleet, sendTensor(2, mtu, key, 50, 9, tensor, 0xDEADBEEF).frames[0],
                   ES_WIRE_BAD_FINGERPRINT);

    // No slot for the sender or the tensor.
    other = h;
    other.source = 3;
    expectRejected(fleet, encode(other, payload, key), ES_WIRE_UNKNOWN_TENSOR);
    other = h;
    other.tensor = 8;
    expectRejected(fleet, encode(other, payload, key), ES_WIRE_UNKNOWN_TENSOR);

    // Header fields a receiver of this version cannot read.
    other = h;
    other.magic0 = 'e';
    expectRejected(fleet, encode(other, payload, key), ES_WIRE_BAD_HEADER);
    other = h;
    other.magic1 = 'T';
    expectRejected(fleet, encode(other, payload, key), ES_WIRE_BAD_HEADER);
    other = h;
    other.version = 2;
    expectRejected(fleet, encode(other, payload, key), ES_WIRE_BAD_HEADER);
    for (uint8_t unknownFlag : {0x02, 0x40, 0x80}) {
      other = h;
      other.flags = static_cast<uint8_t>(h.flags | unknownFlag);
      expectRejected(fleet, encode(other, payload, key), ES_WIRE_BAD_HEADER);
    }

    // Truncated: as cut by the radio (a CRC that no longer matches, or no room for a header)...
    for (size_t len = 0; len < valid.size(); ++len)
      expectRejected(fleet, Bytes(valid.begin(), valid.begin() + long(len)),
                     len < 24 ? ES_WIRE_BAD_HEADER : ES_WIRE_BAD_CRC);
    // ... and with a recomputed CRC and tag: the length no longer matches the header, or a
    // flagged frame has no room left for its tag.
    for (size_t len = 24; len < valid.size(); ++len) {
      const Bytes cut =
          seal(Bytes(valid.begin(), valid.begin() + long(len - (auth ? 12 : 4))), key);
      REQUIRE(cut.size() == len);
      expectRejected(fleet, cut, auth && len < 32 ? ES_WIRE_BAD_AUTH : ES_WIRE_BAD_LENGTH);
    }
    // Over-long: bytes past the declared payload.
    for (size_t extra = 1; extra <= 9; ++extra) {
      Bytes longer(valid.begin(), valid.end() - (auth ? 12 : 4));
      longer.insert(longer.end(), extra, 0x77);
      expectRejected(fleet, seal(longer, key), ES_WIRE_BAD_LENGTH);
    }

    // Index and count that contradict each other or the slot.
    for (uint16_t index : {count, uint16_t(count + 1), uint16_t(0xFFFF)}) {
      other = h;
      other.index = index;
      expectRejected(fleet, encode(other, payload, key), ES_WIRE_BAD_LENGTH);
    }
    other = h;
    other.count = 0;
    expectRejected(fleet, encode(other, payload, key), ES_WIRE_BAD_LENGTH);
    for (uint16_t wrongCount : {uint16_t(count - 1), uint16_t(count + 1), uint16_t(0xFFFF)}) {
      other = h;
      other.count = wrongCount;
      expectRejected(fleet, encode(other, payload, key), ES_WIRE_BAD_LENGTH);
    }

    // Payload lengths the index cannot carry (the frame itself is consistent).
    const auto withPayload = [&](uint16_t index, uint16_t bytes) {
      Header p = h;
      p.index = index;
      p.payloadLength = bytes;
      return encode(p, Bytes(bytes, 0x42), key);
    };
    expectRejected(fleet, withPayload(0, uint16_t(fragmentBytes - 1)), ES_WIRE_BAD_LENGTH);
    expectRejected(fleet, withPayload(0, uint16_t(fragmentBytes + 1)), ES_WIRE_BAD_LENGTH);
    expectRejected(fleet, withPayload(0, 0), ES_WIRE_BAD_LENGTH);
    expectRejected(fleet, withPayload(1, lastBytes), ES_WIRE_BAD_LENGTH);
    expectRejected(fleet, withPayload(uint16_t(count - 1), fragmentBytes), ES_WIRE_BAD_LENGTH);
    expectRejected(fleet, withPayload(uint16_t(count - 1), uint16_t(lastBytes - 1)),
                   ES_WIRE_BAD_LENGTH);
    expectRejected(fleet, withPayload(uint16_t(count - 1), uint16_t(lastBytes + 1)),
                   ES_WIRE_BAD_LENGTH);

    // Nothing of the above was stored or moved the sequence; the valid frame still goes in.
    CHECK(fleet.receiver.has_seq == 0);
    CHECK(fleet.receiver.counters.accepted == 0);
    CHECK(fleet.receive(valid) == ES_WIRE_ACCEPTED);
    CHECK(fleet.receive(withPayload(uint16_t(count - 1), lastBytes)) == ES_WIRE_ACCEPTED);
    CHECK(fleet.guardsIntact());
  }
}

TEST_CASE("a slot of inconsistent geometry is never written past its end", "[wire]") {
  // Three fragments of 10 bytes claimed, but only 15 bytes of data: fragment 1 would end at 20 and
  // fragment 2 would start at 20.
  Fleet fleet(nullptr, {{1, 1, 15, 34}});
  fleet.init(0, 1, 1, 3, 10, 15);
  Header h;
  h.source = 1;
  h.tensor = 1;
  h.count = 3;
  for (uint16_t index = 1; index < 3; ++index) {
    for (uint16_t bytes : {0, 5, 10}) {
      h.index = index;
      h.payloadLength = bytes;
      expectRejected(fleet, encode(h, Bytes(bytes, 0x99), nullptr), ES_WIRE_BAD_LENGTH);
    }
  }
  h.index = 0;
  h.payloadLength = 10;
  CHECK(fleet.receive(encode(h, Bytes(10, 0x99), nullptr)) == ES_WIRE_ACCEPTED);
  CHECK(fleet.guardsIntact());
}

TEST_CASE("an index one past the last fragment is refused even with an empty payload", "[wire]") {
  // 8 fragments of exactly 10 bytes: fragment 8 would start at the end of the data and carry
  // nothing, so only the index check stands between it and bit 8 of a one-byte bitmap.
  Fleet fleet(nullptr, {{1, 1, 80, 34}});
  REQUIRE(fleet.slot(0).fragment_count == 8);
  Header h;
  h.source = 1;
  h.tensor = 1;
  h.count = 8;
  h.index = 8;
  expectRejected(fleet, encode(h, Bytes(), nullptr), ES_WIRE_BAD_LENGTH);
  CHECK(fleet.guardsIntact());
}

TEST_CASE("stale and replayed frames are rejected, with serial-number arithmetic", "[wire]") {
  std::mt19937 rng(11);
  const Bytes tensor = randomBytes(rng, 90);
  for (const uint8_t *key : {static_cast<const uint8_t *>(nullptr), kKey}) {
    INFO((key ? "with key" : "without key"));
    Fleet fleet(key, {{6, 3, 90, 60}});
    const auto deliver = [&](uint32_t seq, const Bytes &data) {
      for (const Bytes &frame : sendTensor(6, 60, key, seq, 3, data).frames)
        REQUIRE(fleet.receive(frame) == ES_WIRE_ACCEPTED);
      REQUIRE(fleet.complete(0, seq));
    };
    deliver(10, tensor);
    const SendResult ten = sendTensor(6, 60, key, 10, 3, tensor);

    // The same frames again, while 10 is current: counted as duplicates, stored once.
    for (const Bytes &frame : ten.frames) expectRejected(fleet, frame, ES_WIRE_DUPLICATE);
    // An older round.
    const Bytes older = randomBytes(rng, 90);
    for (const Bytes &frame : sendTensor(6, 60, key, 9, 3, older).frames)
      expectRejected(fleet, frame, ES_WIRE_STALE);
    for (const Bytes &frame : sendTensor(6, 60, key, 0, 3, older).frames)
      expectRejected(fleet, frame, ES_WIRE_STALE);
    CHECK(fleet.tensor(0) == tensor);

    // Round 11 goes in; a replay of round 10 is now stale.
    const Bytes eleven = randomBytes(rng, 90);
    deliver(11, eleven);
    for (const Bytes &frame : ten.frames) expectRejected(fleet, frame, ES_WIRE_STALE);
    CHECK(fleet.tensor(0) == eleven);
    CHECK(fleet.complete(0, 11));

    // The counter wraps: in steps of less than half the circle up to 0xFFFFFFFF, then 0 is newer
    // and 0xFFFFFFFF stale.
    for (uint32_t seq : {0x40000000u, 0x80000000u, 0xC0000000u, 0xFFFFFFFFu}) deliver(seq, tensor);
    deliver(0, eleven);
    for (const Bytes &frame : sendTensor(6, 60, key, 0xFFFFFFFFu, 3, tensor).frames)
      expectRejected(fleet, frame, ES_WIRE_STALE);
    // Exactly half the circle away counts as older ((int32_t)0x80000000 < 0); one less is newer.
    for (const Bytes &frame : sendTensor(6, 60, key, 0x80000000u, 3, tensor).frames)
      expectRejected(fleet, frame, ES_WIRE_STALE);
    deliver(0x7FFFFFFFu, tensor);
    CHECK(fleet.receiver.seq == 0x7FFFFFFFu);
    CHECK(fleet.guardsIntact());
  }
}

TEST_CASE("a key rejects altered, untagged and foreign-key frames; no key rejects tags", "[wire]") {
  std::mt19937 rng(17);
  const Bytes tensor = randomBytes(rng, 60);
  Fleet keyed(kKey, {{8, 2, 60, 64}});
  const SendResult sent = sendTensor(8, 64, kKey, 300, 2, tensor);
  REQUIRE(sent.frames.size() == 2);
  const Bytes &frame = sent.frames[0];

  // Altered payload with the CRC recomputed: only the tag can tell.
  for (size_t at = 20; at < frame.size() - 12; at += 7) {
    Bytes altered = frame;
    altered[at] ^= 0x01;
    expectRejected(keyed, reseal(altered, nullptr), ES_WIRE_BAD_AUTH);
  }
  // Altered header fields a forger would want (sequence, source, index), CRC recomputed.
  for (size_t at : {8u, 11u, 12u, 14u}) {
    Bytes altered = frame;
    altered[at] ^= 0x01;
    expectRejected(keyed, reseal(altered, nullptr), ES_WIRE_BAD_AUTH);
  }
  // A tag wrong in any one byte.
  for (size_t at = frame.size() - 12; at < frame.size() - 4; ++at) {
    Bytes altered = frame;
    altered[at] ^= 0x80;
    expectRejected(keyed, reseal(altered, nullptr), ES_WIRE_BAD_AUTH);
  }
  // Without a tag: the flag cleared and the tag removed, CRC recomputed; and a keyless sender.
  Bytes untagged(frame.begin(), frame.end() - 12);
  untagged[3] = 0;
  expectRejected(keyed, seal(untagged, nullptr), ES_WIRE_BAD_AUTH);
  for (const Bytes &f : sendTensor(8, 64, nullptr, 300, 2, tensor).frames)
    expectRejected(keyed, f, ES_WIRE_BAD_AUTH);
  // The flag cleared, yet the payload ends in the tag of what precedes it: a receiver with a key
  // requires the flag, whatever the bytes before the CRC happen to be.
  Header flagless;
  flagless.seq = 300;
  flagless.source = 8;
  flagless.tensor = 2;
  flagless.count = 2;
  flagless.payloadLength = 32;
  Bytes disguised = encode(flagless, Bytes(tensor.begin(), tensor.begin() + 24), kKey);
  disguised.erase(disguised.end() - 4, disguised.end()); // header, 24 bytes, tag: 32 bytes
  expectRejected(keyed, seal(disguised, nullptr), ES_WIRE_BAD_AUTH);
  // The flag set with the tag removed.
  untagged[3] = 1;
  expectRejected(keyed, seal(untagged, nullptr), ES_WIRE_BAD_AUTH);
  // A flagged frame too short to hold a tag.
  Header tiny;
  tiny.flags = 1;
  expectRejected(keyed, encode(tiny, Bytes(), nullptr), ES_WIRE_BAD_AUTH);
  // Another fleet's key.
  for (const Bytes &f : sendTensor(8, 64, kOtherKey, 300, 2, tensor).frames)
    expectRejected(keyed, f, ES_WIRE_BAD_AUTH);
  CHECK(keyed.receiver.counters.accepted == 0);

  // The genuine frames go in.
  for (const Bytes &f : sent.frames) CHECK(keyed.receive(f) == ES_WIRE_ACCEPTED);
  CHECK(keyed.complete(0, 300));
  CHECK(keyed.tensor(0) == tensor);

  // A receiver without a key refuses tagged frames rather than ignore the tag.
  Fleet keyless(nullptr, {{8, 2, 60, 64}});
  for (const Bytes &f : sent.frames) expectRejected(keyless, f, ES_WIRE_BAD_AUTH);
  expectRejected(keyless, encode(tiny, Bytes(), nullptr), ES_WIRE_BAD_AUTH);
  for (const Bytes &f : sendTensor(8, 64, nullptr, 300, 2, tensor).frames)
    CHECK(keyless.receive(f) == ES_WIRE_ACCEPTED);
  CHECK(keyless.complete(0, 300));
  CHECK(keyed.guardsIntact());
  CHECK(keyless.guardsIntact());
}

TEST_CASE("with several faults, the first check in the documented order decides", "[wire]") {
  Fleet fleet(kKey, {{1, 1, 100, 64}}); // 32 payload bytes per fragment, 4 fragments
  Header h;
  h.flags = 1;
  h.seq = 10;
  h.source = 1;
  h.tensor = 1;
  h.count = 4;
  h.payloadLength = 32;
  const Bytes payload(32, 0x3C);
  REQUIRE(fleet.receive(encode(h, payload, kKey)) == ES_WIRE_ACCEPTED);

  Header faulty = h;
  faulty.version = 2;
  Bytes frame = encode(faulty, payload, kKey);
  frame.back() ^= 1;
  expectRejected(fleet, frame, ES_WIRE_BAD_HEADER); // before the CRC
  frame = encode(h, payload, kOtherKey);
  frame.back() ^= 1;
  expectRejected(fleet, frame, ES_WIRE_BAD_CRC); // before the tag
  faulty = h;
  faulty.fingerprint = 1;
  // The tag before the fingerprint.
  expectRejected(fleet, encode(faulty, payload, kOtherKey), ES_WIRE_BAD_AUTH);
  faulty.index = 4;
  expectRejected(fleet, encode(faulty, payload, kKey), ES_WIRE_BAD_FINGERPRINT); // before lengths
  faulty = h;
  faulty.index = 4;
  faulty.tensor = 2;
  expectRejected(fleet, encode(faulty, payload, kKey), ES_WIRE_BAD_LENGTH); // before the slot
  faulty = h;
  faulty.tensor = 2;
  faulty.seq = 9;
  expectRejected(fleet, encode(faulty, payload, kKey), ES_WIRE_UNKNOWN_TENSOR); // before the seq
  faulty = h;
  faulty.count = 5;
  faulty.seq = 9;
  expectRejected(fleet, encode(faulty, payload, kKey), ES_WIRE_BAD_LENGTH); // slot before the seq
  faulty = h;
  faulty.seq = 9;
  expectRejected(fleet, encode(faulty, payload, kKey), ES_WIRE_STALE); // before the duplicate
  expectRejected(fleet, encode(h, payload, kKey), ES_WIRE_DUPLICATE);
  CHECK(fleet.guardsIntact());
}

// ---- Sequences ----------------------------------------------------------------------------------

TEST_CASE("a newer sequence abandons the previous round's partial arrivals", "[wire]") {
  std::mt19937 rng(23);
  const Bytes a1 = randomBytes(rng, 70), a2 = randomBytes(rng, 70), b1 = randomBytes(rng, 40);
  // mtu 54 without key: 30 payload bytes per fragment, so A has 3 fragments and B 2.
  Fleet fleet(nullptr, {{1, 0, 70, 54}, {2, 0, 40, 54}});
  const SendResult a1Frames = sendTensor(1, 54, nullptr, 1, 0, a1);
  const SendResult a2Frames = sendTensor(1, 54, nullptr, 2, 0, a2);
  const SendResult b1Frames = sendTensor(2, 54, nullptr, 1, 0, b1);
  REQUIRE(a1Frames.frames.size() == 3);
  REQUIRE(b1Frames.frames.size() == 2);

  CHECK(fleet.receive(a1Frames.frames[0]) == ES_WIRE_ACCEPTED);
  CHECK(fleet.receive(a1Frames.frames[1]) == ES_WIRE_ACCEPTED);
  for (const Bytes &f : b1Frames.frames) CHECK(fleet.receive(f) == ES_WIRE_ACCEPTED);
  CHECK_FALSE(fleet.complete(0, 1));
  CHECK(fleet.complete(1, 1));

  // Fragment 1 of round 2: stored afresh (not a duplicate of round 1's fragment 1), and every
  // slot forgets round 1.
  CHECK(fleet.receive(a2Frames.frames[1]) == ES_WIRE_ACCEPTED);
  CHECK(fleet.receiver.seq == 2);
  CHECK(fleet.slot(0).received_count == 1);
  CHECK(fleet.slot(1).received_count == 0);
  CHECK_FALSE(fleet.complete(1, 1));
  CHECK_FALSE(fleet.complete(1, 2));
  CHECK_FALSE(fleet.complete(0, 2));
  // Round 1's last fragment of A comes late: it cannot complete anything.
  expectRejected(fleet, a1Frames.frames[2], ES_WIRE_STALE);
  for (const Bytes &f : b1Frames.frames) expectRejected(fleet, f, ES_WIRE_STALE);
  CHECK_FALSE(fleet.complete(0, 2));

  CHECK(fleet.receive(a2Frames.frames[0]) == ES_WIRE_ACCEPTED);
  CHECK_FALSE(fleet.complete(0, 2));
  CHECK(fleet.receive(a2Frames.frames[2]) == ES_WIRE_ACCEPTED);
  CHECK(fleet.complete(0, 2));
  CHECK_FALSE(fleet.complete(0, 1));
  CHECK(fleet.tensor(0) == a2);
  CHECK(fleet.guardsIntact());
}

TEST_CASE("completeness is per sequence, and reset forgets the sequence only", "[wire]") {
  std::mt19937 rng(29);
  const Bytes tensor = randomBytes(rng, 50);
  Fleet fleet(kKey, {{4, 4, 50, 60}});
  CHECK_FALSE(fleet.complete(0, 0)); // nothing yet, not even for seq 0
  for (const Bytes &f : sendTensor(4, 60, kKey, 5, 4, tensor).frames)
    CHECK(fleet.receive(f) == ES_WIRE_ACCEPTED);
  CHECK(fleet.complete(0, 5));
  CHECK_FALSE(fleet.complete(0, 4));
  CHECK_FALSE(fleet.complete(0, 6));
  CHECK_FALSE(fleet.complete(0, 5u + 0x80000000u));

  const uint32_t accepted = fleet.receiver.counters.accepted;
  es_wire_receiver_reset(&fleet.receiver);
  CHECK(fleet.receiver.has_seq == 0);
  CHECK_FALSE(fleet.complete(0, 5));
  CHECK(fleet.slot(0).received_count == 0);
  CHECK(fleet.receiver.counters.accepted == accepted);
  // After a reset (an aggregator reboot, say) an older sequence is accepted: there is no current
  // one to be older than.
  for (const Bytes &f : sendTensor(4, 60, kKey, 3, 4, tensor).frames)
    CHECK(fleet.receive(f) == ES_WIRE_ACCEPTED);
  CHECK(fleet.complete(0, 3));
  CHECK(fleet.guardsIntact());
}

TEST_CASE("only a frame that passed every check moves the sequence", "[wire]") {
  std::mt19937 rng(37);
  const Bytes tensor = randomBytes(rng, 80);
  for (const uint8_t *key : {static_cast<const uint8_t *>(nullptr), kKey}) {
    INFO((key ? "with key" : "without key"));
    const bool auth = key != nullptr;
    Fleet fleet(key, {{1, 1, 80, 64}});
    const SendResult current = sendTensor(1, 64, key, 5, 1, tensor);
    REQUIRE(current.frames.size() >= 2);
    CHECK(fleet.receive(current.frames[0]) == ES_WIRE_ACCEPTED);

    // Round 6 frames, each wrong in one way found after the header.
    Header h;
    h.flags = auth ? 1 : 0;
    h.seq = 6;
    h.source = 1;
    h.tensor = 1;
    h.count = fleet.slot(0).fragment_count;
    h.payloadLength = fleet.slot(0).fragment_bytes;
    const Bytes payload(h.payloadLength, 0x5C);
    Bytes badCrc = encode(h, payload, key);
    badCrc.back() ^= 1;
    expectRejected(fleet, badCrc, ES_WIRE_BAD_CRC);
    Header wrong = h;
    wrong.fingerprint = 0;
    expectRejected(fleet, encode(wrong, payload, key), ES_WIRE_BAD_FINGERPRINT);
    wrong = h;
    wrong.tensor = 2;
    expectRejected(fleet, encode(wrong, payload, key), ES_WIRE_UNKNOWN_TENSOR);
    wrong = h;
    wrong.count = uint16_t(h.count + 1);
    expectRejected(fleet, encode(wrong, payload, key), ES_WIRE_BAD_LENGTH);
    wrong = h;
    wrong.payloadLength = uint16_t(h.payloadLength - 1);
    expectRejected(fleet, encode(wrong, Bytes(wrong.payloadLength, 0x5C), key), ES_WIRE_BAD_LENGTH);
    if (auth)
      expectRejected(fleet, encode(h, payload, kOtherKey), ES_WIRE_BAD_AUTH);
    else {
      wrong = h;
      wrong.flags = 1;
      expectRejected(fleet, encode(wrong, payload, kKey), ES_WIRE_BAD_AUTH);
    }
    CHECK(fleet.receiver.seq == 5);
    CHECK(fleet.slot(0).received_count == 1);

    for (size_t i = 1; i < current.frames.size(); ++i)
      CHECK(fleet.receive(current.frames[i]) == ES_WIRE_ACCEPTED);
    CHECK(fleet.complete(0, 5));
    CHECK(fleet.tensor(0) == tensor);
    CHECK(fleet.guardsIntact());
  }
}

// The wire format of fleet messages (runtime-c/src/wire.c, docs/wire.md): the CRC against
// published values; the sender against an encoder written here from the documented layout (its
// tag and encryption from OpenSSL's ChaCha20-Poly1305, not the runtime's); the receiver against
// every way a frame can be wrong, in each of the three link modes. Receivers reassemble into
// buffers fenced by guard bytes, so a write outside a slot shows up even without a sanitizer.
#include "es_wire.h"

#include <catch.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

const uint32_t kFingerprint = 0x5eed1234u;
const uint8_t kGuardByte = 0xA5;
const size_t kGuardBytes = 16;
const int kModes[] = {ES_WIRE_PLAIN, ES_WIRE_AUTH, ES_WIRE_AEAD};

// A link key per source id (a stand-in for the compiler's HKDF): distinct for every source.
const uint8_t *keyOf(uint8_t source) {
  static uint8_t keys[256][32];
  static bool made = false;
  if (!made) {
    std::mt19937 rng(17);
    for (auto &key : keys)
      for (uint8_t &b : key) b = uint8_t(rng());
    made = true;
  }
  return keys[source];
}

void putLE(Bytes &out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

uint32_t crcBitwise(const uint8_t *data, size_t len) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

Bytes randomBytes(std::mt19937 &rng, size_t n) {
  Bytes out(n);
  for (uint8_t &b : out) b = static_cast<uint8_t>(rng());
  return out;
}

// ---- An encoder written from docs/wire.md, with OpenSSL's AEAD ---------------------------------

struct Header {
  uint8_t magic = 0xE2, flags = 0, source = 1, tensor = 0;
  uint16_t frame = 0, senderEpoch = 0;
  uint32_t epoch = 0, round = 1;
};

Bytes headerBytes(const Header &h) {
  Bytes out{h.magic, h.flags, h.source, h.tensor};
  putLE(out, h.frame, 2);
  putLE(out, h.senderEpoch, 2);
  putLE(out, h.epoch, 4);
  putLE(out, h.round, 4);
  return out;
}

// ChaCha20-Poly1305 by OpenSSL: returns the ciphertext and writes the tag.
Bytes opensslSeal(const uint8_t *key, const Bytes &nonce, const Bytes &aad, const Bytes &plain,
                  uint8_t tag[16]) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  Bytes out(plain.size() + 16);
  int len = 0;
  REQUIRE(EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), nullptr, nullptr, nullptr) == 1);
  REQUIRE(EVP_EncryptInit_ex(ctx, nullptr, nullptr, key, nonce.data()) == 1);
  if (!aad.empty()) REQUIRE(EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), int(aad.size())) == 1);
  if (!plain.empty())
    REQUIRE(EVP_EncryptUpdate(ctx, out.data(), &len, plain.data(), int(plain.size())) == 1);
  REQUIRE(EVP_EncryptFinal_ex(ctx, out.data(), &len) == 1);
  REQUIRE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1);
  EVP_CIPHER_CTX_free(ctx);
  out.resize(plain.size());
  return out;
}

// A whole frame in `mode`: the flags follow the mode unless `flags` overrides them.
Bytes encode(Header h, const Bytes &payload, int mode, const uint8_t *key, int flags = -1,
             uint32_t fingerprint = kFingerprint) {
  h.flags = flags >= 0 ? uint8_t(flags)
            : mode == ES_WIRE_AEAD ? uint8_t(ES_WIRE_FLAG_TAG | ES_WIRE_FLAG_ENCRYPTED)
            : mode == ES_WIRE_AUTH ? uint8_t(ES_WIRE_FLAG_TAG)
                                   : uint8_t(0);
  Bytes out = headerBytes(h);
  if (mode == ES_WIRE_PLAIN) {
    out.insert(out.end(), payload.begin(), payload.end());
    putLE(out, fingerprint, 4);
    putLE(out, crcBitwise(out.data(), out.size()), 4);
    return out;
  }
  Bytes nonce;
  putLE(nonce, h.epoch, 4);
  putLE(nonce, h.round, 4);
  putLE(nonce, h.senderEpoch, 2);
  putLE(nonce, h.frame, 2);
  Bytes aad;
  putLE(aad, fingerprint, 4);
  aad.insert(aad.end(), out.begin(), out.end());
  uint8_t tag[16];
  if (mode == ES_WIRE_AEAD) {
    const Bytes cipher = opensslSeal(key, nonce, aad, payload, tag);
    out.insert(out.end(), cipher.begin(), cipher.end());
  } else {
    aad.insert(aad.end(), payload.begin(), payload.end());
    opensslSeal(key, nonce, aad, {}, tag);
    out.insert(out.end(), payload.begin(), payload.end());
  }
  out.insert(out.end(), tag, tag + 16);
  return out;
}

// ---- The sending side ---------------------------------------------------------------------------

std::vector<Bytes> g_sent;

void recordFrame(uint8_t link, const uint8_t *frame, size_t len) {
  CHECK(link == 7);
  g_sent.emplace_back(frame, frame + len);
}

// A sender of `mode` under its source's key, already in round (epoch, round).
struct Sender {
  Bytes scratch;
  es_wire_sender_t sender{};
  Sender(uint8_t source, uint16_t mtu, int mode, uint32_t epoch, uint32_t round,
         uint16_t senderEpoch = 3)
      : scratch(mtu) { // exactly mtu bytes: ASan sees a frame built past its end
    sender.fingerprint = kFingerprint;
    sender.source = source;
    sender.link = 7;
    sender.mtu = mtu;
    sender.mode = uint8_t(mode);
    sender.key = mode == ES_WIRE_PLAIN ? nullptr : keyOf(source);
    sender.sender_epoch = senderEpoch;
    sender.frame = scratch.data();
    sender.send = recordFrame;
    REQUIRE(es_wire_begin_round(&sender, epoch, round) == 1);
  }
  std::vector<Bytes> send(uint8_t tensor, const Bytes &data) {
    g_sent.clear();
    const uint32_t sent =
        es_wire_send_tensor(&sender, tensor, data.empty() ? nullptr : data.data(), data.size());
    CHECK(sent == g_sent.size());
    return g_sent;
  }
};

// ---- The receiving side -------------------------------------------------------------------------

struct SlotSpec {
  uint8_t source, tensor;
  uint32_t bytes;
  uint16_t mtu; // of the sender: fixes fragment_bytes and fragment_count
  uint16_t firstFrame = 0;
};

// A receiver with one slot per spec, every source in `mode` under its own key.
class Fleet {
public:
  Fleet(int mode, const std::vector<SlotSpec> &specs, uint32_t fingerprint = kFingerprint)
      : data_(specs.size()), bitmaps_(specs.size()), slots_(specs.size()) {
    std::set<uint8_t> sources;
    for (size_t i = 0; i < specs.size(); ++i) {
      const uint16_t fragmentBytes = uint16_t(specs[i].mtu - ES_WIRE_OVERHEAD_BYTES(mode));
      const uint32_t count =
          specs[i].bytes == 0 ? 1 : (specs[i].bytes + fragmentBytes - 1) / fragmentBytes;
      data_[i].assign(ES_WIRE_ROUNDS_IN_FLIGHT * specs[i].bytes + 2 * kGuardBytes, kGuardByte);
      bitmaps_[i].assign(ES_WIRE_ROUNDS_IN_FLIGHT * ((count + 7u) / 8u) + 2 * kGuardBytes, kGuardByte);
      std::fill(bitmaps_[i].begin() + kGuardBytes, bitmaps_[i].end() - kGuardBytes, 0);
      std::fill(data_[i].begin() + kGuardBytes, data_[i].end() - kGuardBytes, 0);
      slots_[i] = {specs[i].source, specs[i].tensor, specs[i].firstFrame, uint16_t(count),
                   fragmentBytes, specs[i].bytes, data_[i].data() + kGuardBytes,
                   bitmaps_[i].data() + kGuardBytes, {0, 0}};
      if (sources.insert(specs[i].source).second)
        sources_.push_back({specs[i].source, uint8_t(mode),
                            mode == ES_WIRE_PLAIN ? nullptr : keyOf(specs[i].source)});
    }
    receiver.fingerprint = fingerprint;
    receiver.sources = sources_.data();
    receiver.source_count = uint16_t(sources_.size());
    receiver.slots = slots_.data();
    receiver.slot_count = uint16_t(slots_.size());
  }
  Fleet(const Fleet &) = delete;

  int receive(const Bytes &frame) {
    const Bytes exact(frame); // exactly the frame's length: ASan sees any read past it
    return es_wire_receive(&receiver, exact.empty() ? nullptr : exact.data(), exact.size());
  }
  es_wire_slot_t &slot(size_t i) { return slots_[i]; }
  // Opens a round (and checks the receiver agreed).
  void open(uint32_t epoch, uint32_t round) {
    REQUIRE(es_wire_open_round(&receiver, epoch, round) == 1);
  }
  // The slot's tensor for an open round, or empty.
  Bytes tensor(size_t i, uint32_t epoch = 0, uint32_t round = 1) const {
    const uint8_t *data = es_wire_slot_data(&receiver, &slots_[i], epoch, round);
    return data ? Bytes(data, data + slots_[i].bytes) : Bytes();
  }
  // Fragments arrived in every lane.
  uint32_t arrivals(size_t i) const {
    uint32_t total = 0;
    for (uint16_t count : slots_[i].received_count) total += count;
    return total;
  }
  bool complete(size_t i, uint32_t epoch, uint32_t round) const {
    return es_wire_slot_complete(&receiver, &slots_[i], epoch, round) != 0;
  }
  bool guardsIntact() const {
    for (size_t i = 0; i < slots_.size(); ++i)
      for (const Bytes *buffer : {&data_[i], &bitmaps_[i]})
        for (size_t g = 0; g < kGuardBytes; ++g)
          if ((*buffer)[g] != kGuardByte || (*buffer)[buffer->size() - 1 - g] != kGuardByte)
            return false;
    return true;
  }

  es_wire_receiver_t receiver{};

private:
  std::vector<Bytes> data_, bitmaps_;
  std::vector<es_wire_slot_t> slots_;
  std::vector<es_wire_source_t> sources_;
};

uint32_t counterOf(const es_wire_counters_t &c, int code) {
  const uint32_t counts[] = {c.accepted,        c.duplicate,  c.bad_header,     c.bad_crc, c.bad_auth,
                             c.bad_fingerprint, c.bad_length, c.unknown_tensor, c.stale};
  return counts[code];
}

uint32_t totalCounted(const es_wire_counters_t &c) {
  uint32_t total = 0;
  for (int code = ES_WIRE_ACCEPTED; code <= ES_WIRE_STALE; ++code) total += counterOf(c, code);
  return total;
}

// Feeds a frame that must be rejected with `code`: the matching counter moves by one, no other,
// and nothing about the reassembly changes.
void expectRejected(Fleet &fleet, const Bytes &frame, int code) {
  const es_wire_counters_t before = fleet.receiver.counters;
  const es_wire_receiver_t state = fleet.receiver;
  std::vector<uint32_t> countsBefore;
  std::vector<Bytes> dataBefore;
  for (uint16_t i = 0; i < fleet.receiver.slot_count; ++i) {
    countsBefore.push_back(fleet.arrivals(i));
    for (const es_wire_lane_t &lane : state.lanes)
      dataBefore.push_back(fleet.tensor(i, lane.epoch, lane.round));
  }
  CHECK(fleet.receive(frame) == code);
  CHECK(counterOf(fleet.receiver.counters, code) == counterOf(before, code) + 1);
  CHECK(totalCounted(fleet.receiver.counters) == totalCounted(before) + 1);
  CHECK(std::memcmp(fleet.receiver.lanes, state.lanes, sizeof state.lanes) == 0);
  size_t k = 0;
  for (uint16_t i = 0; i < fleet.receiver.slot_count; ++i) {
    CHECK(fleet.arrivals(i) == countsBefore[i]);
    for (const es_wire_lane_t &lane : state.lanes)
      CHECK(fleet.tensor(i, lane.epoch, lane.round) == dataBefore[k++]);
  }
}

const char *modeName(int mode) {
  return mode == ES_WIRE_AEAD ? "aead" : mode == ES_WIRE_AUTH ? "auth" : "plain";
}

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

// ---- Sending -------------------------------------------------------------------------------------

TEST_CASE("send emits the documented frame layout, tag and ciphertext byte for byte", "[wire]") {
  std::mt19937 rng(7);
  const Bytes first = randomBytes(rng, 100), second = randomBytes(rng, 30);
  for (int mode : kModes) {
    INFO(modeName(mode));
    const uint16_t mtu = 64, fragmentBytes = uint16_t(mtu - ES_WIRE_OVERHEAD_BYTES(mode));
    Sender sender(9, mtu, mode, 0x01020304u, 0xA1B2C3D4u, 0xBEEF);
    const std::vector<Bytes> a = sender.send(42, first), b = sender.send(43, second);
    const size_t count = (100 + fragmentBytes - 1) / fragmentBytes;
    REQUIRE(a.size() == count);
    REQUIRE(b.size() == 1);
    // Frame numbers run on over the tensors of a round.
    for (size_t i = 0; i <= count; ++i) {
      const bool inFirst = i < count;
      Header h;
      h.source = 9;
      h.tensor = inFirst ? 42 : 43;
      h.frame = uint16_t(i);
      h.senderEpoch = 0xBEEF;
      h.epoch = 0x01020304u;
      h.round = 0xA1B2C3D4u;
      const Bytes &data = inFirst ? first : second;
      const size_t begin = inFirst ? i * fragmentBytes : 0;
      const size_t end = std::min<size_t>(data.size(), begin + fragmentBytes);
      const Bytes payload(data.begin() + long(begin), data.begin() + long(end));
      const Bytes &frame = inFirst ? a[i] : b[0];
      CHECK(frame == encode(h, payload, mode, keyOf(9)));
      CHECK(frame.size() <= mtu);
    }
    // Spot checks of the little-endian fields, should the encoder above share a mistake.
    CHECK(a[1][0] == 0xE2);
    CHECK(a[1][2] == 9);
    CHECK(a[1][4] == 1);
    CHECK(a[1][6] == 0xEF);
    CHECK(a[1][8] == 0x04);
    CHECK(a[1][12] == 0xD4);
    CHECK(a[1][15] == 0xA1);
  }
}

TEST_CASE("fragment count and bytes on air are what send emits", "[wire]") {
  std::mt19937 rng(99);
  const Bytes tensor = randomBytes(rng, 700);
  for (int mode : kModes) {
    for (uint16_t mtu : {uint16_t(33), uint16_t(64), uint16_t(100), uint16_t(244), uint16_t(1000)}) {
      for (size_t len : {size_t(0), size_t(1), size_t(31), size_t(32), size_t(200), size_t(700)}) {
        const uint32_t count = es_wire_fragment_count(len, mtu, mode);
        if (mtu <= ES_WIRE_OVERHEAD_BYTES(mode)) {
          CHECK(count == 0);
          continue;
        }
        Sender sender(1, mtu, mode, 0, 1);
        const std::vector<Bytes> frames = sender.send(0, Bytes(tensor.begin(), tensor.begin() + long(len)));
        size_t air = 0;
        for (const Bytes &frame : frames) air += frame.size();
        CHECK(frames.size() == count);
        CHECK(air == es_wire_frame_bytes(len, mtu, mode));
        CHECK(air == len + count * ES_WIRE_OVERHEAD_BYTES(mode));
      }
    }
  }
  // The documented example: 200 bytes on 64-byte frames.
  CHECK(es_wire_frame_bytes(200, 64, ES_WIRE_PLAIN) == 320);
  CHECK(es_wire_frame_bytes(200, 64, ES_WIRE_AEAD) == 424);
}

TEST_CASE("send refuses what would repeat a nonce or overflow the frame numbers", "[wire]") {
  Sender sender(1, 64, ES_WIRE_AEAD, 5, 10);
  CHECK(es_wire_begin_round(&sender.sender, 5, 10) == 0); // the same round again
  CHECK(es_wire_begin_round(&sender.sender, 5, 9) == 0);
  CHECK(es_wire_begin_round(&sender.sender, 4, 0xFFFFFFFFu) == 0);
  CHECK(sender.sender.round == 10);
  CHECK(es_wire_begin_round(&sender.sender, 5, 11) == 1);
  CHECK(es_wire_begin_round(&sender.sender, 6, 0) == 1); // a new epoch restarts the rounds
  // 65535 frame numbers per round: a tensor of 65536 fragments cannot be sent, and neither can
  // one that would run past the last number after others.
  const Bytes big(size_t(32) * 65535);
  CHECK(es_wire_fragment_count(big.size() + 1, 64, ES_WIRE_AEAD) == 0);
  CHECK(sender.send(0, big).size() == 65535);
  CHECK(sender.send(1, Bytes(1)).empty());
  // No round begun, or no key: nothing.
  es_wire_sender_t fresh = sender.sender;
  fresh.in_round = 0;
  g_sent.clear();
  CHECK(es_wire_send_tensor(&fresh, 0, nullptr, 0) == 0);
  fresh.in_round = 1;
  fresh.next_frame = 0;
  fresh.key = nullptr;
  CHECK(es_wire_send_tensor(&fresh, 0, nullptr, 0) == 0);
  CHECK(g_sent.empty());
}

// ---- Receiving -----------------------------------------------------------------------------------

TEST_CASE("random tensors survive out-of-order and duplicated delivery in every mode", "[wire]") {
  std::mt19937 rng(2024);
  for (int mode : kModes) {
    for (int trial = 0; trial < 20; ++trial) {
      INFO(modeName(mode) << " trial " << trial);
      const uint16_t mtu = uint16_t(40 + rng() % 200);
      const Bytes a = randomBytes(rng, rng() % 500), b = randomBytes(rng, rng() % 100);
      Sender sender(2, mtu, mode, 1, uint32_t(trial + 1));
      std::vector<Bytes> frames = sender.send(0, a);
      const uint16_t firstOfB = uint16_t(frames.size());
      for (const Bytes &f : sender.send(1, b)) frames.push_back(f);
      Fleet fleet(mode, {{2, 0, uint32_t(a.size()), mtu, 0}, {2, 1, uint32_t(b.size()), mtu, firstOfB}});
      fleet.open(1, uint32_t(trial + 1));
      std::shuffle(frames.begin(), frames.end(), rng);
      for (const Bytes &f : frames) REQUIRE(fleet.receive(f) == ES_WIRE_ACCEPTED);
      for (const Bytes &f : frames) REQUIRE(fleet.receive(f) == ES_WIRE_DUPLICATE);
      CHECK(fleet.tensor(0, 1, uint32_t(trial + 1)) == a);
      CHECK(fleet.tensor(1, 1, uint32_t(trial + 1)) == b);
      CHECK(fleet.complete(0, 1, uint32_t(trial + 1)));
      CHECK(fleet.complete(1, 1, uint32_t(trial + 1)));
      CHECK_FALSE(fleet.complete(0, 0, uint32_t(trial + 1)));
      CHECK(fleet.guardsIntact());
    }
  }
}

TEST_CASE("every single-byte change of a frame is rejected in every mode", "[wire]") {
  std::mt19937 rng(5);
  for (int mode : kModes) {
    INFO(modeName(mode));
    const Bytes tensor = randomBytes(rng, 60);
    Sender sender(1, 64, mode, 0, 1);
    const Bytes frame = sender.send(0, tensor)[0];
    for (size_t at = 0; at < frame.size(); ++at) {
      for (uint8_t flip : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xFF)}) {
        Fleet fleet(mode, {{1, 0, 60, 64}});
        fleet.open(0, 1);
        Bytes altered = frame;
        altered[at] ^= flip;
        const int code = fleet.receive(altered);
        REQUIRE(code != ES_WIRE_ACCEPTED);
        CHECK(fleet.arrivals(0) == 0);
        CHECK(fleet.tensor(0) == Bytes(60, 0));
      }
    }
    Fleet fleet(mode, {{1, 0, 60, 64}});
    fleet.open(0, 1);
    CHECK(fleet.receive(frame) == ES_WIRE_ACCEPTED);
  }
}

TEST_CASE("foreign, malformed and inconsistent frames get their own code", "[wire]") {
  const Bytes payload(32, 0x5A);
  for (int mode : kModes) {
    INFO(modeName(mode));
    const uint8_t *key = keyOf(1);
    Fleet fleet(mode, {{1, 0, 64, 64}}); // 2 fragments of 32 (keyed) or 40 + 24 (plain)
    fleet.open(0, 1);
    const uint16_t f0 = uint16_t(64 - ES_WIRE_OVERHEAD_BYTES(mode));
    const Bytes first(f0, 0x5A);
    Header h;
    // Header: too short, wrong magic, unknown flag bit.
    expectRejected(fleet, Bytes(23, 0xE2), ES_WIRE_BAD_HEADER);
    Header wrongMagic = h;
    wrongMagic.magic = 0xE1;
    expectRejected(fleet, encode(wrongMagic, first, mode, key), ES_WIRE_BAD_HEADER);
    expectRejected(fleet, encode(h, first, mode, key, 0x04), ES_WIRE_BAD_HEADER);
    // A source the receiver does not know.
    Header stranger = h;
    stranger.source = 2;
    expectRejected(fleet, encode(stranger, first, mode, keyOf(2)), ES_WIRE_UNKNOWN_TENSOR);
    // Another mode's flags: a downgrade, or tags the link does not use.
    for (int other : kModes)
      if (other != mode) expectRejected(fleet, encode(h, first, other, key), ES_WIRE_BAD_AUTH);
    if (mode == ES_WIRE_PLAIN) {
      Bytes noisy = encode(h, first, mode, nullptr);
      noisy[20] ^= 1;
      expectRejected(fleet, noisy, ES_WIRE_BAD_CRC);
      expectRejected(fleet, encode(h, first, mode, nullptr, -1, 0x12345678u),
                     ES_WIRE_BAD_FINGERPRINT);
    } else {
      // Another link's key (a captured sensor speaking for device 1), another compilation.
      expectRejected(fleet, encode(h, first, mode, keyOf(2)), ES_WIRE_BAD_AUTH);
      expectRejected(fleet, encode(h, first, mode, key, -1, 0x12345678u), ES_WIRE_BAD_AUTH);
      expectRejected(fleet, Bytes(31, 0), ES_WIRE_BAD_HEADER);
    }
    // A tensor without a slot; frame numbers and lengths that do not fit the slot.
    Header otherTensor = h;
    otherTensor.tensor = 9;
    expectRejected(fleet, encode(otherTensor, first, mode, key), ES_WIRE_UNKNOWN_TENSOR);
    Header pastEnd = h;
    pastEnd.frame = 2;
    expectRejected(fleet, encode(pastEnd, Bytes(64 - f0, 0), mode, key), ES_WIRE_BAD_LENGTH);
    expectRejected(fleet, encode(h, Bytes(f0 - 1, 0), mode, key), ES_WIRE_BAD_LENGTH);
    Header last = h;
    last.frame = 1;
    expectRejected(fleet, encode(last, Bytes(64 - f0 - 1, 0), mode, key), ES_WIRE_BAD_LENGTH);
    CHECK(fleet.receive(encode(h, first, mode, key)) == ES_WIRE_ACCEPTED);
    CHECK(fleet.receive(encode(last, Bytes(64 - f0, 0x5A), mode, key)) == ES_WIRE_ACCEPTED);
    CHECK(fleet.complete(0, 0, 1));
    // A beacon is not a data frame.
    uint8_t beacon[32];
    const size_t beaconBytes = es_wire_build_beacon(beacon, kFingerprint, 1, mode, key, 0, 2);
    expectRejected(fleet, Bytes(beacon, beacon + beaconBytes), ES_WIRE_BAD_HEADER);
    CHECK(fleet.guardsIntact());
  }
}

TEST_CASE("only opened rounds take frames, two at once, 64-bit and never wrapping", "[wire]") {
  for (int mode : kModes) {
    INFO(modeName(mode));
    const Bytes tensor(100, 7);
    Fleet fleet(mode, {{1, 0, 100, 64}});
    auto frames = [&](uint32_t epoch, uint32_t round) {
      Sender sender(1, 64, mode, epoch, round);
      return sender.send(0, tensor);
    };
    // Nothing is open yet: a frame of any round is refused and moves nothing.
    expectRejected(fleet, frames(1, 5)[0], ES_WIRE_STALE);
    fleet.open(1, 0xFFFFFFFFu);
    CHECK(es_wire_open_round(&fleet.receiver, 1, 0xFFFFFFFFu) == 0); // not newer
    CHECK(es_wire_open_round(&fleet.receiver, 0, 7) == 0);
    const std::vector<Bytes> current = frames(1, 0xFFFFFFFFu);
    REQUIRE(fleet.receive(current[0]) == ES_WIRE_ACCEPTED);
    // Older rounds and rounds far ahead (a captured key's, or a faulty sensor's) are refused.
    expectRejected(fleet, frames(1, 0)[0], ES_WIRE_STALE);
    expectRejected(fleet, frames(0, 0xFFFFFFFFu)[0], ES_WIRE_STALE);
    expectRejected(fleet, frames(0xFFFFFFFFu, 0xFFFFFFFFu)[0], ES_WIRE_STALE);
    CHECK(fleet.receive(current[0]) == ES_WIRE_DUPLICATE);
    // The next round (here: the next epoch) opens beside it: the first is not abandoned.
    fleet.open(2, 0);
    const std::vector<Bytes> next = frames(2, 0);
    REQUIRE(fleet.receive(next[1]) == ES_WIRE_ACCEPTED);
    for (size_t i = 1; i < current.size(); ++i) CHECK(fleet.receive(current[i]) == ES_WIRE_ACCEPTED);
    CHECK(fleet.complete(0, 1, 0xFFFFFFFFu));
    CHECK(fleet.tensor(0, 1, 0xFFFFFFFFu) == tensor);
    CHECK_FALSE(fleet.complete(0, 2, 0));
    // A third round abandons the oldest.
    fleet.open(2, 1);
    CHECK_FALSE(fleet.complete(0, 1, 0xFFFFFFFFu));
    for (const Bytes &f : current) CHECK(fleet.receive(f) == ES_WIRE_STALE);
    for (size_t i = 0; i < next.size(); ++i)
      CHECK(fleet.receive(next[i]) == (i == 1 ? ES_WIRE_DUPLICATE : ES_WIRE_ACCEPTED));
    CHECK(fleet.complete(0, 2, 0));
    // Closing a round (its deadline passed) and resetting refuse its frames from then on.
    es_wire_close_round(&fleet.receiver, 2, 0);
    CHECK_FALSE(fleet.complete(0, 2, 0));
    CHECK(fleet.receive(next[0]) == ES_WIRE_STALE);
    es_wire_receiver_reset(&fleet.receiver);
    CHECK(fleet.receive(frames(2, 1)[0]) == ES_WIRE_STALE);
    CHECK(fleet.guardsIntact());
  }
}

TEST_CASE("a worker's one round at a time: reset, then open, reassembles in lane 0 only",
          "[wire]") {
  // A worker's slots point into its arena with room for one round (docs/wire.md "Workers"): on
  // each newer beacon it resets its receiver and opens that round, which must take lane 0.
  for (int mode : kModes) {
    INFO(modeName(mode));
    Fleet fleet(mode, {{1, 0, 100, 64}});
    const uint8_t *lane0 = fleet.slot(0).data;
    for (uint32_t round = 1; round <= 4; ++round) {
      const Bytes tensor(100, uint8_t(round));
      Sender sender(1, 64, mode, 3, round);
      const std::vector<Bytes> frames = sender.send(0, tensor);
      es_wire_receiver_reset(&fleet.receiver);
      fleet.open(3, round);
      // Round 2 is left incomplete: round 3 abandons it, as a worker waits for no late sender.
      for (size_t i = 0; i < frames.size(); ++i)
        if (round != 2 || i == 0) CHECK(fleet.receive(frames[i]) == ES_WIRE_ACCEPTED);
      CHECK(es_wire_slot_data(&fleet.receiver, &fleet.slot(0), 3, round) == lane0);
      CHECK(fleet.complete(0, 3, round) == (round != 2));
      if (round != 2) CHECK(fleet.tensor(0, 3, round) == tensor);
      CHECK_FALSE(fleet.complete(0, 3, round - 1));
      // Lane 1's bytes are never written.
      CHECK(std::all_of(lane0 + 100, lane0 + 200, [](uint8_t b) { return b == 0; }));
    }
    CHECK(fleet.guardsIntact());
  }
}

TEST_CASE("beacons: built and checked per link, newer rounds only", "[wire]") {
  for (int mode : kModes) {
    INFO(modeName(mode));
    const uint8_t *key = mode == ES_WIRE_PLAIN ? nullptr : keyOf(3);
    uint8_t frame[32];
    const size_t len = es_wire_build_beacon(frame, kFingerprint, 3, mode, key, 4, 9);
    REQUIRE(len == ES_WIRE_BEACON_BYTES(mode));
    Header h;
    h.source = 3;
    h.frame = ES_WIRE_BEACON_FRAME;
    h.epoch = 4;
    h.round = 9;
    const int flags = ES_WIRE_FLAG_BEACON | (mode == ES_WIRE_PLAIN ? 0 : ES_WIRE_FLAG_TAG);
    CHECK(Bytes(frame, frame + len) ==
          encode(h, {}, mode == ES_WIRE_PLAIN ? ES_WIRE_PLAIN : ES_WIRE_AUTH, key, flags));
    es_wire_beacon_receiver_t beacons{kFingerprint, 3, uint8_t(mode), key, 0, 0, 0};
    CHECK(es_wire_receive_beacon(&beacons, frame, len) == ES_WIRE_ACCEPTED);
    CHECK((beacons.epoch == 4 && beacons.round == 9 && beacons.has_round));
    CHECK(es_wire_receive_beacon(&beacons, frame, len) == ES_WIRE_STALE); // a replay
    uint8_t older[32];
    es_wire_build_beacon(older, kFingerprint, 3, mode, key, 3, 0xFFFFFFFFu);
    CHECK(es_wire_receive_beacon(&beacons, older, len) == ES_WIRE_STALE);
    uint8_t newer[32];
    es_wire_build_beacon(newer, kFingerprint, 3, mode, key, 5, 0);
    // Every single-byte change is refused and leaves the round as it was.
    for (size_t at = 0; at < len; ++at) {
      Bytes altered(newer, newer + len);
      altered[at] ^= 0x10;
      CHECK(es_wire_receive_beacon(&beacons, altered.data(), len) != ES_WIRE_ACCEPTED);
    }
    CHECK(beacons.round == 9);
    if (mode != ES_WIRE_PLAIN) { // another link's key: a captured sensor cannot open rounds
      uint8_t forged[32];
      es_wire_build_beacon(forged, kFingerprint, 3, mode, keyOf(2), 5, 0);
      CHECK(es_wire_receive_beacon(&beacons, forged, len) == ES_WIRE_BAD_AUTH);
      CHECK(es_wire_build_beacon(forged, kFingerprint, 3, mode, nullptr, 5, 0) == 0);
    }
    CHECK(es_wire_receive_beacon(&beacons, newer, len) == ES_WIRE_ACCEPTED);
    CHECK((beacons.epoch == 5 && beacons.round == 0));
  }
}

TEST_CASE("an AEAD link sends no plaintext byte and never the same ciphertext twice", "[wire]") {
  std::mt19937 rng(11);
  const Bytes tensor = randomBytes(rng, 200);
  Sender sender(1, 64, ES_WIRE_AEAD, 0, 1);
  const std::vector<Bytes> round1 = sender.send(0, tensor);
  REQUIRE(es_wire_begin_round(&sender.sender, 0, 2) == 1);
  const std::vector<Bytes> round2 = sender.send(0, tensor);
  REQUIRE(round1.size() == round2.size());
  size_t equalBytes = 0, total = 0;
  for (size_t i = 0; i < round1.size(); ++i) {
    const size_t payload = round1[i].size() - 32;
    const Bytes plain(tensor.begin() + long(i * 32), tensor.begin() + long(i * 32 + payload));
    const Bytes c1(round1[i].begin() + 16, round1[i].begin() + 16 + long(payload));
    const Bytes c2(round2[i].begin() + 16, round2[i].begin() + 16 + long(payload));
    CHECK(c1 != plain);
    CHECK(c1 != c2);
    for (size_t k = 0; k < payload; ++k) equalBytes += c1[k] == plain[k], ++total;
  }
  // A keystream byte equals the plaintext byte 1 time in 256.
  CHECK(equalBytes * 32 < total);
  // The receiver decrypts what it accepted.
  Fleet fleet(ES_WIRE_AEAD, {{1, 0, 200, 64}});
  fleet.open(0, 2);
  for (const Bytes &f : round2) REQUIRE(fleet.receive(f) == ES_WIRE_ACCEPTED);
  CHECK(fleet.tensor(0, 0, 2) == tensor);
}

/* The wire format of docs/wire.md: CRC-32, ChaCha20-Poly1305 tags and encryption (aead.c),
 * fragmentation and reassembly. Every multi-byte field is encoded and decoded byte by byte, so the
 * frames are the same on any endianness and no pointer is ever cast to a wider type (frames arrive
 * at any alignment). The receiver treats every byte of a frame as hostile: each length is checked
 * before it is used as an offset, and nothing is stored (or decrypted) until the frame has passed
 * every check. */
#include "es_wire.h"

#include "es_aead.h"

#include <string.h>

/* Offsets of the header fields (docs/wire.md "Frame layout"). */
enum {
  MAGIC_AT = 0,
  FLAGS_AT = 1,
  SOURCE_AT = 2,
  TENSOR_AT = 3,
  FRAME_AT = 4,
  SENDER_EPOCH_AT = 6,
  EPOCH_AT = 8,
  ROUND_AT = 12
};

#define KNOWN_FLAGS (ES_WIRE_FLAG_TAG | ES_WIRE_FLAG_ENCRYPTED)

/* ---- Little-endian fields ---------------------------------------------------------------- */

static void put_u16(uint8_t *at, uint16_t value) {
  at[0] = (uint8_t)value;
  at[1] = (uint8_t)(value >> 8);
}

static void put_u32(uint8_t *at, uint32_t value) {
  at[0] = (uint8_t)value;
  at[1] = (uint8_t)(value >> 8);
  at[2] = (uint8_t)(value >> 16);
  at[3] = (uint8_t)(value >> 24);
}

static uint16_t get_u16(const uint8_t *at) { return (uint16_t)(at[0] | (at[1] << 8)); }

static uint32_t get_u32(const uint8_t *at) {
  return (uint32_t)at[0] | ((uint32_t)at[1] << 8) | ((uint32_t)at[2] << 16) |
         ((uint32_t)at[3] << 24);
}

/* ---- CRC-32 -------------------------------------------------------------------------------- */

/* The reflected CRC of each 4-bit value: two lookups per byte. */
static const uint32_t crc32_nibble_table[16] = {0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu,
                                                0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
                                                0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
                                                0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};

uint32_t es_crc32(const uint8_t *data, size_t len) {
  uint32_t crc = 0xFFFFFFFFu;
  size_t i;
  for (i = 0; i < len; ++i) {
    crc ^= data[i];
    crc = (crc >> 4) ^ crc32_nibble_table[crc & 0x0Fu];
    crc = (crc >> 4) ^ crc32_nibble_table[crc & 0x0Fu];
  }
  return crc ^ 0xFFFFFFFFu;
}

/* ---- Nonces and tags ------------------------------------------------------------------------ */

/* The nonce of a frame (docs/wire.md "Nonces"): epoch | round | sender epoch | frame number,
 * little-endian, taken from the header the tag authenticates. A sender never repeats (epoch,
 * round) within a boot (es_wire_begin_round) nor a frame number within a round, and a new boot
 * has a new sender epoch, so no two frames under one link key share a nonce. */
static void nonce_of(const uint8_t *header, uint8_t nonce[ES_AEAD_NONCE_BYTES]) {
  memcpy(nonce, header + EPOCH_AT, 8);         /* epoch, round */
  memcpy(nonce + 8, header + SENDER_EPOCH_AT, 2);
  memcpy(nonce + 10, header + FRAME_AT, 2);
}

/* The tag of a keyed frame of `payload` bytes: the associated data is the fingerprint (never
 * sent: a frame of another compilation fails its tag) and the header, plus the payload on a
 * tag-only link; on an AEAD link the payload (already encrypted) is the ciphertext. */
static void frame_tag(const uint8_t key[32], uint32_t fingerprint, const uint8_t *frame,
                      size_t payload, int encrypted, uint8_t tag[ES_WIRE_TAG_BYTES]) {
  uint8_t nonce[ES_AEAD_NONCE_BYTES], prefix[ES_WIRE_FINGERPRINT_BYTES];
  const uint8_t *body = frame + ES_WIRE_HEADER_BYTES;
  put_u32(prefix, fingerprint);
  nonce_of(frame, nonce);
  if (encrypted)
    es_aead_tag(key, nonce, prefix, sizeof prefix, frame, ES_WIRE_HEADER_BYTES, body, payload, tag);
  else
    es_aead_tag(key, nonce, prefix, sizeof prefix, frame, ES_WIRE_HEADER_BYTES + payload, NULL, 0,
                tag);
}

/* ---- Fragmentation ------------------------------------------------------------------------- */

uint32_t es_wire_fragment_count(size_t len, uint16_t mtu, int mode) {
  const uint32_t overhead = ES_WIRE_OVERHEAD_BYTES(mode);
  size_t fragment_bytes;
  size_t count;
  if (mtu <= overhead) return 0;
  fragment_bytes = (size_t)mtu - overhead;
  /* ceil(len / fragment_bytes) without len + fragment_bytes - 1, which could wrap. */
  count = len == 0 ? 1u : (len - 1u) / fragment_bytes + 1u;
  return count > ES_WIRE_MAX_FRAME + 1u ? 0u : (uint32_t)count;
}

uint32_t es_wire_frame_bytes(size_t len, uint16_t mtu, int mode) {
  const uint32_t count = es_wire_fragment_count(len, mtu, mode);
  /* count != 0 bounds len by 65535 * (mtu - overhead), so the sum is at most 65535 * mtu. */
  return count == 0 ? 0u : (uint32_t)len + count * ES_WIRE_OVERHEAD_BYTES(mode);
}

int es_wire_begin_round(es_wire_sender_t *sender, uint32_t epoch, uint32_t round) {
  if (sender->in_round &&
      (epoch < sender->epoch || (epoch == sender->epoch && round <= sender->round)))
    return 0;
  sender->epoch = epoch;
  sender->round = round;
  sender->next_frame = 0;
  sender->in_round = 1;
  return 1;
}

uint32_t es_wire_send_tensor(es_wire_sender_t *sender, uint8_t tensor, const void *data,
                             size_t len) {
  const int mode = sender->mode;
  const uint32_t count = es_wire_fragment_count(len, sender->mtu, mode);
  const uint8_t *bytes = (const uint8_t *)data;
  uint8_t *frame = sender->frame;
  size_t fragment_bytes;
  uint32_t index;
  if (count == 0 || frame == NULL || sender->send == NULL || !sender->in_round ||
      (mode != ES_WIRE_PLAIN && sender->key == NULL) ||
      (uint32_t)sender->next_frame + count - 1u > ES_WIRE_MAX_FRAME)
    return 0;
  fragment_bytes = (size_t)sender->mtu - ES_WIRE_OVERHEAD_BYTES(mode);
  for (index = 0; index < count; ++index) {
    const size_t offset = (size_t)index * fragment_bytes;
    const size_t payload = len - offset < fragment_bytes ? len - offset : fragment_bytes;
    uint8_t *body = frame + ES_WIRE_HEADER_BYTES;
    size_t at = ES_WIRE_HEADER_BYTES + payload;
    frame[MAGIC_AT] = ES_WIRE_MAGIC;
    frame[FLAGS_AT] = mode == ES_WIRE_AEAD   ? ES_WIRE_FLAG_TAG | ES_WIRE_FLAG_ENCRYPTED
                      : mode == ES_WIRE_AUTH ? ES_WIRE_FLAG_TAG
                                             : 0u;
    frame[SOURCE_AT] = sender->source;
    frame[TENSOR_AT] = tensor;
    put_u16(frame + FRAME_AT, sender->next_frame);
    put_u16(frame + SENDER_EPOCH_AT, sender->sender_epoch);
    put_u32(frame + EPOCH_AT, sender->epoch);
    put_u32(frame + ROUND_AT, sender->round);
    if (payload > 0) memcpy(body, bytes + offset, payload);
    if (mode == ES_WIRE_PLAIN) {
      put_u32(frame + at, sender->fingerprint);
      at += ES_WIRE_FINGERPRINT_BYTES;
      put_u32(frame + at, es_crc32(frame, at));
      at += ES_WIRE_CRC_BYTES;
    } else {
      if (mode == ES_WIRE_AEAD && payload > 0) {
        uint8_t nonce[ES_AEAD_NONCE_BYTES];
        nonce_of(frame, nonce);
        es_chacha20_xor(sender->key, 1, nonce, body, body, payload);
      }
      frame_tag(sender->key, sender->fingerprint, frame, payload, mode == ES_WIRE_AEAD,
                frame + at);
      at += ES_WIRE_TAG_BYTES;
    }
    ++sender->next_frame;
    sender->send(sender->link, frame, at);
  }
  return count;
}

/* ---- Reassembly ---------------------------------------------------------------------------- */

/* Counts the outcome and hands it back, so each check is one line: return outcome(r, CODE). */
static int outcome(es_wire_receiver_t *receiver, int code) {
  es_wire_counters_t *c = &receiver->counters;
  switch (code) {
  case ES_WIRE_ACCEPTED:
    ++c->accepted;
    break;
  case ES_WIRE_DUPLICATE:
    ++c->duplicate;
    break;
  case ES_WIRE_BAD_HEADER:
    ++c->bad_header;
    break;
  case ES_WIRE_BAD_CRC:
    ++c->bad_crc;
    break;
  case ES_WIRE_BAD_AUTH:
    ++c->bad_auth;
    break;
  case ES_WIRE_BAD_FINGERPRINT:
    ++c->bad_fingerprint;
    break;
  case ES_WIRE_BAD_LENGTH:
    ++c->bad_length;
    break;
  case ES_WIRE_UNKNOWN_TENSOR:
    ++c->unknown_tensor;
    break;
  default:
    ++c->stale;
    break;
  }
  return code;
}

static const es_wire_source_t *find_source(const es_wire_receiver_t *receiver, uint8_t source) {
  uint16_t i;
  for (i = 0; i < receiver->source_count; ++i)
    if (receiver->sources[i].source == source) return &receiver->sources[i];
  return NULL;
}

static es_wire_slot_t *find_slot(const es_wire_receiver_t *receiver, uint8_t source,
                                 uint8_t tensor) {
  uint16_t i;
  for (i = 0; i < receiver->slot_count; ++i) {
    es_wire_slot_t *slot = &receiver->slots[i];
    if (slot->source == source && slot->tensor == tensor) return slot;
  }
  return NULL;
}

/* 1 when fragment `index` of the slot must carry exactly `payload` bytes and they fit in its data:
 * fragment_bytes for all but the last, the rest of the tensor for the last. The explicit bound
 * keeps a slot whose geometry is inconsistent (bytes too small for its count) from being written
 * past its end. */
static int payload_fits_slot(const es_wire_slot_t *slot, uint16_t index, size_t payload) {
  const uint32_t offset = (uint32_t)index * slot->fragment_bytes; /* < 2^32: both are u16 */
  uint32_t expected;
  if (offset > slot->bytes) return 0;
  expected =
      (uint32_t)index + 1u < slot->fragment_count ? slot->fragment_bytes : slot->bytes - offset;
  return payload == expected && expected <= slot->bytes - offset;
}

static size_t bitmap_bytes(const es_wire_slot_t *slot) {
  return ((size_t)slot->fragment_count + 7u) / 8u;
}

/* Forgets what arrived in lane `lane` of every slot. */
static void forget_lane(es_wire_receiver_t *receiver, unsigned lane) {
  uint16_t i;
  for (i = 0; i < receiver->slot_count; ++i) {
    es_wire_slot_t *slot = &receiver->slots[i];
    if (slot->received != NULL) memset(slot->received + lane * bitmap_bytes(slot), 0, bitmap_bytes(slot));
    slot->received_count[lane] = 0;
  }
}

/* (a_epoch, a_round) < (b_epoch, b_round) as 64-bit round numbers. */
static int older(uint32_t a_epoch, uint32_t a_round, uint32_t b_epoch, uint32_t b_round) {
  return a_epoch < b_epoch || (a_epoch == b_epoch && a_round < b_round);
}

/* The lane of open round (epoch, round), or -1. */
static int lane_of(const es_wire_receiver_t *receiver, uint32_t epoch, uint32_t round) {
  unsigned lane;
  for (lane = 0; lane < ES_WIRE_ROUNDS_IN_FLIGHT; ++lane)
    if (receiver->lanes[lane].open && receiver->lanes[lane].epoch == epoch &&
        receiver->lanes[lane].round == round)
      return (int)lane;
  return -1;
}

int es_wire_open_round(es_wire_receiver_t *receiver, uint32_t epoch, uint32_t round) {
  unsigned lane, chosen = 0;
  for (lane = 0; lane < ES_WIRE_ROUNDS_IN_FLIGHT; ++lane) {
    const es_wire_lane_t *l = &receiver->lanes[lane];
    if (l->open && !older(l->epoch, l->round, epoch, round)) return 0;
  }
  /* A closed lane, else the oldest open round's. */
  for (lane = 1; lane < ES_WIRE_ROUNDS_IN_FLIGHT; ++lane) {
    const es_wire_lane_t *l = &receiver->lanes[lane], *c = &receiver->lanes[chosen];
    if (!c->open) break;
    if (!l->open || older(l->epoch, l->round, c->epoch, c->round)) chosen = lane;
  }
  forget_lane(receiver, chosen);
  receiver->lanes[chosen].epoch = epoch;
  receiver->lanes[chosen].round = round;
  receiver->lanes[chosen].open = 1;
  return 1;
}

void es_wire_close_round(es_wire_receiver_t *receiver, uint32_t epoch, uint32_t round) {
  const int lane = lane_of(receiver, epoch, round);
  if (lane >= 0) receiver->lanes[lane].open = 0;
}

/* The flags a frame of a link in `mode` carries. */
static uint8_t flags_of(uint8_t mode) {
  return mode == ES_WIRE_AEAD   ? ES_WIRE_FLAG_TAG | ES_WIRE_FLAG_ENCRYPTED
         : mode == ES_WIRE_AUTH ? ES_WIRE_FLAG_TAG
                                : 0u;
}

int es_wire_receive(es_wire_receiver_t *receiver, const uint8_t *frame, size_t len) {
  const es_wire_source_t *source;
  size_t overhead, payload;
  uint16_t number, index;
  es_wire_slot_t *slot;
  uint8_t *received;
  uint8_t mask;
  int lane;

  /* The header must be there before any field of it is read. */
  if (len < ES_WIRE_OVERHEAD_BYTES(ES_WIRE_PLAIN) || frame[MAGIC_AT] != ES_WIRE_MAGIC ||
      (frame[FLAGS_AT] & ~KNOWN_FLAGS) != 0)
    return outcome(receiver, ES_WIRE_BAD_HEADER);

  source = find_source(receiver, frame[SOURCE_AT]);
  if (source == NULL) return outcome(receiver, ES_WIRE_UNKNOWN_TENSOR);
  /* A frame of another mode than its link's is refused before anything else: neither a downgrade
   * to clear text nor an unkeyed frame on a keyed link gets further. */
  overhead = ES_WIRE_OVERHEAD_BYTES(source->mode);
  if (frame[FLAGS_AT] != flags_of(source->mode) || len < overhead ||
      (source->mode != ES_WIRE_PLAIN && source->key == NULL))
    return outcome(receiver, ES_WIRE_BAD_AUTH);
  payload = len - overhead;

  if (source->mode == ES_WIRE_PLAIN) {
    const size_t crc_at = len - ES_WIRE_CRC_BYTES;
    if (get_u32(frame + crc_at) != es_crc32(frame, crc_at)) return outcome(receiver, ES_WIRE_BAD_CRC);
    if (get_u32(frame + crc_at - ES_WIRE_FINGERPRINT_BYTES) != receiver->fingerprint)
      return outcome(receiver, ES_WIRE_BAD_FINGERPRINT);
  } else {
    uint8_t expected[ES_WIRE_TAG_BYTES];
    frame_tag(source->key, receiver->fingerprint, frame, payload, source->mode == ES_WIRE_AEAD,
              expected);
    if (!es_equal_constant_time(expected, frame + len - ES_WIRE_TAG_BYTES, ES_WIRE_TAG_BYTES))
      return outcome(receiver, ES_WIRE_BAD_AUTH);
  }

  slot = find_slot(receiver, frame[SOURCE_AT], frame[TENSOR_AT]);
  if (slot == NULL) return outcome(receiver, ES_WIRE_UNKNOWN_TENSOR);
  number = get_u16(frame + FRAME_AT);
  index = (uint16_t)(number - slot->first_frame);
  if (number < slot->first_frame || index >= slot->fragment_count ||
      !payload_fits_slot(slot, index, payload))
    return outcome(receiver, ES_WIRE_BAD_LENGTH);

  /* Only the rounds the aggregator opened take frames: however far ahead a frame's round is, it
   * moves nothing. */
  lane = lane_of(receiver, get_u32(frame + EPOCH_AT), get_u32(frame + ROUND_AT));
  if (lane < 0) return outcome(receiver, ES_WIRE_STALE);

  received = slot->received + (size_t)lane * bitmap_bytes(slot);
  mask = (uint8_t)(1u << (index & 7u));
  if (received[index >> 3] & mask) return outcome(receiver, ES_WIRE_DUPLICATE);
  if (payload > 0) {
    uint8_t *to = slot->data + (size_t)lane * slot->bytes + (size_t)index * slot->fragment_bytes;
    if (source->mode == ES_WIRE_AEAD) {
      uint8_t nonce[ES_AEAD_NONCE_BYTES];
      nonce_of(frame, nonce);
      es_chacha20_xor(source->key, 1, nonce, frame + ES_WIRE_HEADER_BYTES, to, payload);
    } else {
      memcpy(to, frame + ES_WIRE_HEADER_BYTES, payload);
    }
  }
  received[index >> 3] |= mask;
  ++slot->received_count[lane];
  return outcome(receiver, ES_WIRE_ACCEPTED);
}

int es_wire_slot_complete(const es_wire_receiver_t *receiver, const es_wire_slot_t *slot,
                          uint32_t epoch, uint32_t round) {
  const int lane = lane_of(receiver, epoch, round);
  return lane >= 0 && slot->fragment_count > 0 &&
         slot->received_count[lane] == slot->fragment_count;
}

const uint8_t *es_wire_slot_data(const es_wire_receiver_t *receiver, const es_wire_slot_t *slot,
                                 uint32_t epoch, uint32_t round) {
  const int lane = lane_of(receiver, epoch, round);
  return lane < 0 || slot->data == NULL ? NULL : slot->data + (size_t)lane * slot->bytes;
}

void es_wire_receiver_reset(es_wire_receiver_t *receiver) {
  unsigned lane;
  for (lane = 0; lane < ES_WIRE_ROUNDS_IN_FLIGHT; ++lane) {
    receiver->lanes[lane].open = 0;
    forget_lane(receiver, lane);
  }
}

/* ---- Beacons ------------------------------------------------------------------------------- */

size_t es_wire_build_beacon(uint8_t *frame, uint32_t fingerprint, uint8_t source, int mode,
                            const uint8_t *key, uint32_t epoch, uint32_t round) {
  size_t at = ES_WIRE_HEADER_BYTES;
  if (mode != ES_WIRE_PLAIN && key == NULL) return 0;
  frame[MAGIC_AT] = ES_WIRE_MAGIC;
  frame[FLAGS_AT] = (uint8_t)(ES_WIRE_FLAG_BEACON | (mode != ES_WIRE_PLAIN ? ES_WIRE_FLAG_TAG : 0u));
  frame[SOURCE_AT] = source;
  frame[TENSOR_AT] = 0;
  put_u16(frame + FRAME_AT, (uint16_t)ES_WIRE_BEACON_FRAME);
  put_u16(frame + SENDER_EPOCH_AT, 0);
  put_u32(frame + EPOCH_AT, epoch);
  put_u32(frame + ROUND_AT, round);
  if (mode == ES_WIRE_PLAIN) {
    put_u32(frame + at, fingerprint);
    at += ES_WIRE_FINGERPRINT_BYTES;
    put_u32(frame + at, es_crc32(frame, at));
    return at + ES_WIRE_CRC_BYTES;
  }
  frame_tag(key, fingerprint, frame, 0, 0, frame + at);
  return at + ES_WIRE_TAG_BYTES;
}

int es_wire_receive_beacon(es_wire_beacon_receiver_t *beacons, const uint8_t *frame, size_t len) {
  const int keyed = beacons->mode != ES_WIRE_PLAIN;
  uint32_t epoch, round;
  if (len != ES_WIRE_BEACON_BYTES(beacons->mode) || frame[MAGIC_AT] != ES_WIRE_MAGIC ||
      frame[FLAGS_AT] != (uint8_t)(ES_WIRE_FLAG_BEACON | (keyed ? ES_WIRE_FLAG_TAG : 0u)) ||
      frame[SOURCE_AT] != beacons->aggregator || frame[TENSOR_AT] != 0 ||
      get_u16(frame + FRAME_AT) != ES_WIRE_BEACON_FRAME || get_u16(frame + SENDER_EPOCH_AT) != 0)
    return ES_WIRE_BAD_HEADER;
  if (keyed) {
    uint8_t expected[ES_WIRE_TAG_BYTES];
    if (beacons->key == NULL) return ES_WIRE_BAD_AUTH;
    frame_tag(beacons->key, beacons->fingerprint, frame, 0, 0, expected);
    if (!es_equal_constant_time(expected, frame + ES_WIRE_HEADER_BYTES, ES_WIRE_TAG_BYTES))
      return ES_WIRE_BAD_AUTH;
  } else {
    if (get_u32(frame + len - ES_WIRE_CRC_BYTES) != es_crc32(frame, len - ES_WIRE_CRC_BYTES))
      return ES_WIRE_BAD_CRC;
    if (get_u32(frame + ES_WIRE_HEADER_BYTES) != beacons->fingerprint) return ES_WIRE_BAD_FINGERPRINT;
  }
  epoch = get_u32(frame + EPOCH_AT);
  round = get_u32(frame + ROUND_AT);
  /* A replayed or reordered beacon must not send the sensor back to an old round. */
  if (beacons->has_round && !older(beacons->epoch, beacons->round, epoch, round))
    return ES_WIRE_STALE;
  beacons->epoch = epoch;
  beacons->round = round;
  beacons->has_round = 1;
  return ES_WIRE_ACCEPTED;
}

/* The wire format of docs/wire.md: CRC-32, SipHash-2-4, fragmentation and reassembly.
 * Every multi-byte field is encoded and decoded byte by byte, so the frames are the same on any
 * endianness and no pointer is ever cast to a wider type (frames arrive at any alignment). The
 * receiver treats every byte of a frame as hostile: each length is checked before it is used as
 * an offset, and nothing is stored until the frame has passed every check. */
#include "es_wire.h"

#include <string.h>

/* Offsets of the header fields (docs/wire.md "Frame layout"). */
enum {
  MAGIC_AT = 0,
  VERSION_AT = 2,
  FLAGS_AT = 3,
  FINGERPRINT_AT = 4,
  SEQUENCE_AT = 8,
  SOURCE_AT = 12,
  TENSOR_AT = 13,
  FRAGMENT_INDEX_AT = 14,
  FRAGMENT_COUNT_AT = 16,
  PAYLOAD_LENGTH_AT = 18
};

#define MAGIC_0 0x45u /* 'E' in ASCII, whatever the compiler's character set */
#define MAGIC_1 0x53u /* 'S' */
#define MAX_FRAGMENTS 65535u

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

static void put_u64(uint8_t *at, uint64_t value) {
  put_u32(at, (uint32_t)value);
  put_u32(at + 4, (uint32_t)(value >> 32));
}

static uint16_t get_u16(const uint8_t *at) { return (uint16_t)(at[0] | (at[1] << 8)); }

static uint32_t get_u32(const uint8_t *at) {
  return (uint32_t)at[0] | ((uint32_t)at[1] << 8) | ((uint32_t)at[2] << 16) |
         ((uint32_t)at[3] << 24);
}

static uint64_t get_u64(const uint8_t *at) {
  return (uint64_t)get_u32(at) | ((uint64_t)get_u32(at + 4) << 32);
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

/* ---- SipHash-2-4 --------------------------------------------------------------------------- */

#define ROTL64(x, bits) (((x) << (bits)) | ((x) >> (64 - (bits))))

typedef struct {
  uint64_t v0, v1, v2, v3;
} sip_state_t;

static void sip_round(sip_state_t *s) {
  s->v0 += s->v1;
  s->v1 = ROTL64(s->v1, 13);
  s->v1 ^= s->v0;
  s->v0 = ROTL64(s->v0, 32);
  s->v2 += s->v3;
  s->v3 = ROTL64(s->v3, 16);
  s->v3 ^= s->v2;
  s->v0 += s->v3;
  s->v3 = ROTL64(s->v3, 21);
  s->v3 ^= s->v0;
  s->v2 += s->v1;
  s->v1 = ROTL64(s->v1, 17);
  s->v1 ^= s->v2;
  s->v2 = ROTL64(s->v2, 32);
}

/* Two compression rounds per 8-byte word: the "2" of SipHash-2-4. */
static void sip_absorb(sip_state_t *s, uint64_t word) {
  s->v3 ^= word;
  sip_round(s);
  sip_round(s);
  s->v0 ^= word;
}

uint64_t es_siphash24(const uint8_t key[16], const uint8_t *data, size_t len) {
  const uint64_t k0 = get_u64(key);
  const uint64_t k1 = get_u64(key + 8);
  sip_state_t s;
  const size_t whole_words = len / 8u;
  const size_t tail_bytes = len % 8u;
  /* The last word holds the remaining bytes and, in its top byte, len mod 256. */
  uint64_t last = (uint64_t)(len & 0xFFu) << 56;
  size_t w;
  size_t i;
  s.v0 = k0 ^ 0x736f6d6570736575u; /* "somepseudorandomlygeneratedbytes" */
  s.v1 = k1 ^ 0x646f72616e646f6du;
  s.v2 = k0 ^ 0x6c7967656e657261u;
  s.v3 = k1 ^ 0x7465646279746573u;
  for (w = 0; w < whole_words; ++w) sip_absorb(&s, get_u64(data + 8u * w));
  for (i = 0; i < tail_bytes; ++i) last |= (uint64_t)data[8u * whole_words + i] << (8u * i);
  sip_absorb(&s, last);
  /* Four finalisation rounds: the "4". */
  s.v2 ^= 0xFFu;
  sip_round(&s);
  sip_round(&s);
  sip_round(&s);
  sip_round(&s);
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

/* ---- Fragmentation ------------------------------------------------------------------------- */

uint32_t es_wire_fragment_count(size_t len, uint16_t mtu, int auth) {
  const uint32_t overhead = ES_WIRE_OVERHEAD_BYTES(auth);
  size_t fragment_bytes;
  size_t count;
  if (mtu <= overhead) return 0;
  fragment_bytes = (size_t)mtu - overhead;
  /* ceil(len / fragment_bytes) without len + fragment_bytes - 1, which could wrap. */
  count = len == 0 ? 1u : (len - 1u) / fragment_bytes + 1u;
  return count > MAX_FRAGMENTS ? 0u : (uint32_t)count;
}

uint32_t es_wire_frame_bytes(size_t len, uint16_t mtu, int auth) {
  const uint32_t count = es_wire_fragment_count(len, mtu, auth);
  /* count != 0 bounds len by 65535 * (mtu - overhead), so the sum is at most 65535 * mtu. */
  return count == 0 ? 0u : (uint32_t)len + count * ES_WIRE_OVERHEAD_BYTES(auth);
}

uint32_t es_wire_send_tensor(const es_wire_sender_t *sender, uint32_t seq, uint8_t tensor,
                             const void *data, size_t len) {
  const int auth = sender->key != NULL;
  const uint32_t count = es_wire_fragment_count(len, sender->mtu, auth);
  const uint8_t *bytes = (const uint8_t *)data;
  uint8_t *frame = sender->frame;
  size_t fragment_bytes;
  uint32_t index;
  if (count == 0 || frame == NULL || sender->send == NULL) return 0;
  fragment_bytes = (size_t)sender->mtu - ES_WIRE_OVERHEAD_BYTES(auth);
  for (index = 0; index < count; ++index) {
    const size_t offset = (size_t)index * fragment_bytes;
    const size_t payload = len - offset < fragment_bytes ? len - offset : fragment_bytes;
    size_t at = ES_WIRE_HEADER_BYTES;
    frame[MAGIC_AT] = MAGIC_0;
    frame[MAGIC_AT + 1] = MAGIC_1;
    frame[VERSION_AT] = ES_WIRE_VERSION;
    frame[FLAGS_AT] = auth ? ES_WIRE_FLAG_AUTH : 0u;
    put_u32(frame + FINGERPRINT_AT, sender->fingerprint);
    put_u32(frame + SEQUENCE_AT, seq);
    frame[SOURCE_AT] = sender->source;
    frame[TENSOR_AT] = tensor;
    put_u16(frame + FRAGMENT_INDEX_AT, (uint16_t)index);
    put_u16(frame + FRAGMENT_COUNT_AT, (uint16_t)count);
    put_u16(frame + PAYLOAD_LENGTH_AT, (uint16_t)payload);
    if (payload > 0) memcpy(frame + at, bytes + offset, payload);
    at += payload;
    if (auth) {
      put_u64(frame + at, es_siphash24(sender->key, frame, at));
      at += ES_WIRE_TAG_BYTES;
    }
    put_u32(frame + at, es_crc32(frame, at));
    at += ES_WIRE_CRC_BYTES;
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

/* 1 when the tag in frame[tag_at..tag_at + 8) is SipHash-2-4 of frame[0..tag_at). The bytes are
 * compared without an early exit, so the time taken does not tell an attacker how many leading
 * bytes of a forged tag were right. */
static int tag_matches(const uint8_t key[16], const uint8_t *frame, size_t tag_at) {
  uint8_t expected[ES_WIRE_TAG_BYTES];
  uint8_t difference = 0;
  size_t i;
  put_u64(expected, es_siphash24(key, frame, tag_at));
  for (i = 0; i < ES_WIRE_TAG_BYTES; ++i) difference |= (uint8_t)(expected[i] ^ frame[tag_at + i]);
  return difference == 0;
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
static int payload_fits_slot(const es_wire_slot_t *slot, uint16_t index, uint16_t payload) {
  const uint32_t offset = (uint32_t)index * slot->fragment_bytes; /* < 2^32: both are u16 */
  uint32_t expected;
  if (offset > slot->bytes) return 0;
  expected =
      (uint32_t)index + 1u < slot->fragment_count ? slot->fragment_bytes : slot->bytes - offset;
  return payload == expected && expected <= slot->bytes - offset;
}

static void forget_arrivals(es_wire_receiver_t *receiver) {
  uint16_t i;
  for (i = 0; i < receiver->slot_count; ++i) {
    es_wire_slot_t *slot = &receiver->slots[i];
    if (slot->received != NULL) memset(slot->received, 0, ((size_t)slot->fragment_count + 7u) / 8u);
    slot->received_count = 0;
  }
}

int es_wire_receive(es_wire_receiver_t *receiver, const uint8_t *frame, size_t len) {
  size_t crc_at;
  size_t tag_bytes;
  uint16_t index;
  uint16_t count;
  uint16_t payload;
  uint32_t seq;
  es_wire_slot_t *slot;
  uint8_t mask;

  /* The header must be there before any field of it is read. */
  if (len < ES_WIRE_OVERHEAD_BYTES(0) || frame[MAGIC_AT] != MAGIC_0 ||
      frame[MAGIC_AT + 1] != MAGIC_1 || frame[VERSION_AT] != ES_WIRE_VERSION ||
      (frame[FLAGS_AT] & ~ES_WIRE_FLAG_AUTH) != 0)
    return outcome(receiver, ES_WIRE_BAD_HEADER);

  crc_at = len - ES_WIRE_CRC_BYTES;
  if (get_u32(frame + crc_at) != es_crc32(frame, crc_at)) return outcome(receiver, ES_WIRE_BAD_CRC);

  /* The tag sits just before the CRC and covers everything before it. A flagged frame too short to
   * hold one is a missing tag. */
  tag_bytes = (frame[FLAGS_AT] & ES_WIRE_FLAG_AUTH) ? ES_WIRE_TAG_BYTES : 0u;
  if (receiver->key != NULL) {
    if (tag_bytes == 0 || len < ES_WIRE_OVERHEAD_BYTES(1) ||
        !tag_matches(receiver->key, frame, crc_at - ES_WIRE_TAG_BYTES))
      return outcome(receiver, ES_WIRE_BAD_AUTH);
  } else if (tag_bytes != 0) {
    /* Accepting it would let a keyless receiver be fed frames it cannot check, from a fleet that
     * believes its frames are authenticated: a configuration mismatch, not something to ignore. */
    return outcome(receiver, ES_WIRE_BAD_AUTH);
  }

  if (get_u32(frame + FINGERPRINT_AT) != receiver->fingerprint)
    return outcome(receiver, ES_WIRE_BAD_FINGERPRINT);

  index = get_u16(frame + FRAGMENT_INDEX_AT);
  count = get_u16(frame + FRAGMENT_COUNT_AT);
  payload = get_u16(frame + PAYLOAD_LENGTH_AT);
  if (len != ES_WIRE_HEADER_BYTES + (size_t)payload + tag_bytes + ES_WIRE_CRC_BYTES || count == 0 ||
      index >= count)
    return outcome(receiver, ES_WIRE_BAD_LENGTH);

  slot = find_slot(receiver, frame[SOURCE_AT], frame[TENSOR_AT]);
  if (slot == NULL) return outcome(receiver, ES_WIRE_UNKNOWN_TENSOR);
  if (count != slot->fragment_count || !payload_fits_slot(slot, index, payload))
    return outcome(receiver, ES_WIRE_BAD_LENGTH);

  /* Serial-number arithmetic (RFC 1982 style): seq is newer when it is less than 2^31 ahead, so
   * the counter may wrap. The unsigned difference avoids converting to int32_t, which C99 leaves
   * implementation-defined for values above INT32_MAX. */
  seq = get_u32(frame + SEQUENCE_AT);
  if (receiver->has_seq) {
    const uint32_t ahead = seq - receiver->seq;
    if (ahead & 0x80000000u) return outcome(receiver, ES_WIRE_STALE);
    if (ahead != 0) {
      receiver->seq = seq;
      forget_arrivals(receiver);
    }
  } else {
    receiver->seq = seq;
    receiver->has_seq = 1;
    forget_arrivals(receiver);
  }

  mask = (uint8_t)(1u << (index & 7u));
  if (slot->received[index >> 3] & mask) return outcome(receiver, ES_WIRE_DUPLICATE);
  if (payload > 0)
    memcpy(slot->data + (size_t)index * slot->fragment_bytes, frame + ES_WIRE_HEADER_BYTES,
           payload);
  slot->received[index >> 3] |= mask;
  ++slot->received_count;
  return outcome(receiver, ES_WIRE_ACCEPTED);
}

int es_wire_slot_complete(const es_wire_receiver_t *receiver, const es_wire_slot_t *slot,
                          uint32_t seq) {
  return receiver->has_seq && receiver->seq == seq && slot->fragment_count > 0 &&
         slot->received_count == slot->fragment_count;
}

void es_wire_receiver_reset(es_wire_receiver_t *receiver) {
  receiver->seq = 0;
  receiver->has_seq = 0;
  forget_arrivals(receiver);
}

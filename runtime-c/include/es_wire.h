/* edgesplit runtime: the wire format of fleet messages (docs/wire.md).
 * A sensor MCU sends the tensors cut out of the model ("cut tensors") to the aggregator over a
 * radio link whose frames are smaller than a tensor, so each tensor is split into fragments that
 * carry their own header and CRC-32 and, when the fleet has a key, a SipHash-2-4 tag. The
 * receiver reassembles into buffers the compiler sized (slots): a frame is stored only after
 * every check passed, and it is never read or written outside the bounds it was given, because
 * the link is hostile ground (noise, other fleets, an attacker within radio range).
 * C99, no allocation, byte-wise encoding: the same frames on any endianness or alignment. */
#ifndef ES_WIRE_H
#define ES_WIRE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version byte of every frame: a receiver drops frames of another layout. */
#define ES_WIRE_VERSION 1u
/* magic 'E','S' | version | flags | fingerprint u32 | sequence u32 | source u8 | tensor u8 |
 * fragment index u16 | fragment count u16 | payload length u16, little-endian. */
#define ES_WIRE_HEADER_BYTES 20u
#define ES_WIRE_CRC_BYTES 4u
#define ES_WIRE_TAG_BYTES 8u
/* bytes a frame adds around its payload */
#define ES_WIRE_OVERHEAD_BYTES(auth)                                                               \
  (ES_WIRE_HEADER_BYTES + ES_WIRE_CRC_BYTES + ((auth) ? ES_WIRE_TAG_BYTES : 0u))
/* Flags bit 0: the frame carries a tag. The other bits are reserved and must be 0. */
#define ES_WIRE_FLAG_AUTH 0x01u

/* IEEE 802.3 CRC-32 (reflected polynomial 0xEDB88320, init and xorout 0xFFFFFFFF):
 * "123456789" gives 0xCBF43926. A 16-entry nibble table: 64 bytes of flash instead of 1 KiB. It
 * catches noise (every burst of up to 32 bits), not forgery: that is the tag's job. */
uint32_t es_crc32(const uint8_t *data, size_t len);

/* SipHash-2-4 of `len` bytes under a 16-byte key (k0 = bytes 0..7, k1 = bytes 8..15, both
 * little-endian), as the reference implementation (github.com/veorq/SipHash). data may be NULL
 * when len is 0. */
uint64_t es_siphash24(const uint8_t key[16], const uint8_t *data, size_t len);

/* Fragments needed for a payload of `len` bytes on a link of `mtu` bytes per frame (at least 1:
 * an empty tensor still sends one frame). 0 when the tensor cannot be sent: mtu <= overhead, or
 * more than 65535 fragments. */
uint32_t es_wire_fragment_count(size_t len, uint16_t mtu, int auth);
/* Total bytes on air (all frames incl. headers/tag/crc) for one tensor of `len` bytes: len +
 * fragment count * overhead; 0 when the tensor cannot be sent. Always fits uint32_t, as it is at
 * most 65535 frames of at most 65535 bytes. */
uint32_t es_wire_frame_bytes(size_t len, uint16_t mtu, int auth);

/* Hands one finished frame to the radio. The frame lives in the sender's scratch buffer, which the
 * next frame overwrites: copy it out if the link queues frames. */
typedef void (*es_wire_send_fn)(uint8_t link, const uint8_t *frame, size_t len);

typedef struct {
  uint32_t fingerprint; /* of the compiled model: receivers drop other models' frames */
  uint8_t source;       /* device id of the sender */
  uint8_t link;         /* passed through to send */
  uint16_t mtu;         /* largest frame, header to CRC */
  const uint8_t *key;   /* 16-byte SipHash key, or NULL: frames carry no tag */
  uint8_t *frame;       /* scratch of mtu bytes where each frame is built */
  es_wire_send_fn send;
} es_wire_sender_t;

/* Splits `len` bytes of tensor `tensor` into frames of at most mtu bytes, in fragment order, each
 * handed to send(). Returns the number of frames sent: es_wire_fragment_count(len, mtu, key !=
 * NULL), and 0 (nothing sent) when that is 0 or frame/send is NULL. data may be NULL when len
 * is 0. `seq` numbers one round of tensors (one inference): the same seq for every tensor of a
 * round, a larger one (mod 2^32) for the next. */
uint32_t es_wire_send_tensor(const es_wire_sender_t *sender, uint32_t seq, uint8_t tensor,
                             const void *data, size_t len);

/* Where the receiver reassembles one tensor of one sender. The compiler fills the geometry from
 * the sender's mtu and key; the receiver keeps `received` and `received_count`. */
typedef struct {
  uint8_t source;          /* expected sender device id */
  uint8_t tensor;          /* tensor id */
  uint16_t fragment_count; /* fragments of the whole tensor */
  uint16_t fragment_bytes; /* payload of every fragment but the last (sender's mtu - overhead) */
  uint32_t bytes;          /* payload bytes of the whole tensor */
  uint8_t *data;           /* where the tensor is reassembled, `bytes` long */
  uint8_t *received;       /* bitmap of arrived fragments, (fragment_count + 7) / 8 bytes */
  uint16_t received_count; /* distinct fragments arrived for the receiver's current sequence */
} es_wire_slot_t;

/* One count per outcome of es_wire_receive, so a field test can tell noise (bad_crc) from a
 * neighbouring fleet (bad_fingerprint) from an attack (bad_auth) without a debugger. */
typedef struct {
  uint32_t accepted;        /* frames whose payload was stored */
  uint32_t duplicate;       /* valid frames of a fragment already stored (ignored) */
  uint32_t bad_header;      /* too short, wrong magic or version, unknown flags */
  uint32_t bad_crc;         /* noise: the CRC does not match */
  uint32_t bad_auth;        /* tag wrong, missing, or present when no key is configured */
  uint32_t bad_fingerprint; /* another model's frames */
  uint32_t bad_length;      /* payload length, index or count inconsistent with the frame or slot */
  uint32_t unknown_tensor;  /* no slot for (source, tensor) */
  uint32_t stale;           /* sequence older than the current one */
} es_wire_counters_t;

/* One sequence for all slots: a round is complete when every slot it needs is complete for the
 * same seq, and a newer round abandons whatever the old one left unfinished. Start with has_seq
 * 0 and zeroed bitmaps (or call es_wire_receiver_reset). */
typedef struct {
  uint32_t fingerprint;
  const uint8_t *key; /* 16-byte key or NULL */
  es_wire_slot_t *slots;
  uint16_t slot_count;
  uint32_t seq;    /* current sequence number, valid when has_seq */
  uint8_t has_seq; /* 0 until the first accepted frame, and after a reset */
  es_wire_counters_t counters;
} es_wire_receiver_t;

/* The result of es_wire_receive, one per counter, in the order the checks run. */
enum {
  ES_WIRE_ACCEPTED = 0,
  ES_WIRE_DUPLICATE,
  ES_WIRE_BAD_HEADER,
  ES_WIRE_BAD_CRC,
  ES_WIRE_BAD_AUTH,
  ES_WIRE_BAD_FINGERPRINT,
  ES_WIRE_BAD_LENGTH,
  ES_WIRE_UNKNOWN_TENSOR,
  ES_WIRE_STALE
};

/* Validates one frame and stores its payload; returns an ES_WIRE_ code and counts it. Never reads
 * outside frame[0..len) and never writes outside a slot's data/received arrays. Checks, in order
 * (docs/wire.md "Rejection order"): header, CRC, tag, fingerprint, length, slot, slot geometry,
 * sequence, duplicate. Only a frame that passed every check may move the sequence. */
int es_wire_receive(es_wire_receiver_t *receiver, const uint8_t *frame, size_t len);
/* 1 when every fragment of the slot arrived for the receiver's current sequence `seq`. */
int es_wire_slot_complete(const es_wire_receiver_t *receiver, const es_wire_slot_t *slot,
                          uint32_t seq);
/* Forgets the sequence and every arrived fragment (counters kept). */
void es_wire_receiver_reset(es_wire_receiver_t *receiver);

#ifdef __cplusplus
}
#endif

#endif /* ES_WIRE_H */

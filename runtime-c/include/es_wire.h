/* edgesplit runtime: the wire format of fleet messages (docs/wire.md, docs/security.md).
 * A sensor MCU sends the tensors cut out of the model ("cut tensors") to the aggregator over a
 * radio link whose frames are smaller than a tensor, so each tensor is split into fragments that
 * carry their own header. On a keyed link every frame carries a ChaCha20-Poly1305 tag under the
 * link's own key (RFC 8439), and its payload is encrypted unless the link is tag-only; on an
 * unkeyed link a CRC-32 catches noise. The receiver reassembles into buffers the compiler sized
 * (slots): a frame is stored only after every check passed, and it is never read or written
 * outside the bounds it was given, because the link is hostile ground (noise, other fleets, an
 * attacker within radio range). C99, no allocation, byte-wise encoding: the same frames on any
 * endianness or alignment. */
#ifndef ES_WIRE_H
#define ES_WIRE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Byte 0 of every frame: the format's mark and version (2). A receiver drops other layouts. */
#define ES_WIRE_MAGIC 0xE2u
#define ES_WIRE_VERSION 2u
/* magic | flags | source u8 | tensor u8 | frame u16 | sender epoch u16 | epoch u32 | round u32,
 * little-endian. */
#define ES_WIRE_HEADER_BYTES 16u
/* Unkeyed frames end with the fingerprint (u32) and a CRC-32; keyed frames with a 16-byte tag. */
#define ES_WIRE_FINGERPRINT_BYTES 4u
#define ES_WIRE_CRC_BYTES 4u
#define ES_WIRE_TAG_BYTES 16u

/* How a link protects its frames. */
enum {
  ES_WIRE_PLAIN = 0, /* CRC-32 against noise only */
  ES_WIRE_AUTH = 1,  /* ChaCha20-Poly1305 tag over header and payload; payload in clear */
  ES_WIRE_AEAD = 2   /* payload encrypted, header authenticated (ChaCha20-Poly1305) */
};
/* bytes a frame adds around its payload: 24 unkeyed, 32 keyed (either keyed mode) */
#define ES_WIRE_OVERHEAD_BYTES(mode)                                                               \
  (ES_WIRE_HEADER_BYTES +                                                                          \
   ((mode) != ES_WIRE_PLAIN ? ES_WIRE_TAG_BYTES : ES_WIRE_FINGERPRINT_BYTES + ES_WIRE_CRC_BYTES))
/* Flags: bit 0 a tag ends the frame, bit 1 the payload is encrypted (needs bit 0), bit 2 the frame
 * is a beacon (the aggregator opening a round). The other bits are reserved and must be 0. */
#define ES_WIRE_FLAG_TAG 0x01u
#define ES_WIRE_FLAG_ENCRYPTED 0x02u
#define ES_WIRE_FLAG_BEACON 0x04u
/* The largest frame number of a sender's round; 65535 is the beacon's. */
#define ES_WIRE_MAX_FRAME 65534u
#define ES_WIRE_BEACON_FRAME 65535u
/* Bytes of a beacon: a header and a tag (keyed) or fingerprint and CRC, no payload. */
#define ES_WIRE_BEACON_BYTES(mode) ES_WIRE_OVERHEAD_BYTES(mode)
/* Rounds the receiver reassembles at once: a late sender still completes the previous round
 * while the next one fills. */
#define ES_WIRE_ROUNDS_IN_FLIGHT 2u

/* IEEE 802.3 CRC-32 (reflected polynomial 0xEDB88320, init and xorout 0xFFFFFFFF):
 * "123456789" gives 0xCBF43926. A 16-entry nibble table: 64 bytes of flash instead of 1 KiB. It
 * catches noise (every burst of up to 32 bits), not forgery: that is the tag's job. */
uint32_t es_crc32(const uint8_t *data, size_t len);

/* Fragments needed for a payload of `len` bytes on a link of `mtu` bytes per frame (at least 1:
 * an empty tensor still sends one frame). 0 when the tensor cannot be sent: mtu <= overhead, or
 * more than ES_WIRE_MAX_FRAME + 1 fragments. */
uint32_t es_wire_fragment_count(size_t len, uint16_t mtu, int mode);
/* Total bytes on air (all frames incl. header and tag or CRC) for one tensor of `len` bytes: len
 * + fragment count * overhead; 0 when the tensor cannot be sent. */
uint32_t es_wire_frame_bytes(size_t len, uint16_t mtu, int mode);

/* Hands one finished frame to the radio. The frame lives in the sender's scratch buffer, which the
 * next frame overwrites: copy it out if the link queues frames. */
typedef void (*es_wire_send_fn)(uint8_t link, const uint8_t *frame, size_t len);

/* One sender: its configuration, then the state of the round it is sending (set by
 * es_wire_begin_round; start zeroed). */
typedef struct {
  uint32_t fingerprint;  /* of the compiled model: receivers drop other models' frames */
  uint8_t source;        /* device id of the sender */
  uint8_t link;          /* passed through to send */
  uint16_t mtu;          /* largest frame, header to tag or CRC */
  uint8_t mode;          /* ES_WIRE_PLAIN, ES_WIRE_AUTH or ES_WIRE_AEAD */
  const uint8_t *key;    /* the link's 32-byte key (keyed modes) */
  uint16_t sender_epoch; /* this boot of the sender (docs/wire.md "Nonces") */
  uint8_t *frame;        /* scratch of mtu bytes where each frame is built */
  es_wire_send_fn send;
  uint32_t epoch, round; /* the round being sent */
  uint16_t next_frame;   /* frame number of the next fragment in this round */
  uint8_t in_round;      /* 1 once a round began */
} es_wire_sender_t;

/* Starts round (epoch, round): frame numbers restart at 0. Returns 0 and changes nothing when the
 * round is not newer than the last one this sender began, since its frames would repeat nonces. */
int es_wire_begin_round(es_wire_sender_t *sender, uint32_t epoch, uint32_t round);

/* Splits `len` bytes of tensor `tensor` into frames of at most mtu bytes, in fragment order, each
 * handed to send(), numbered on from the round's previous frames. Returns the number of frames
 * sent: es_wire_fragment_count(len, mtu, mode), and 0 (nothing sent) when that is 0, when no round
 * began, when the round's frame numbers would pass ES_WIRE_MAX_FRAME, or when frame/send (or the
 * key of a keyed mode) is NULL. data may be NULL when len is 0. */
uint32_t es_wire_send_tensor(es_wire_sender_t *sender, uint8_t tensor, const void *data,
                             size_t len);

/* How the receiver checks the frames of one source: its mode and the key of its link. */
typedef struct {
  uint8_t source;     /* sender device id */
  uint8_t mode;       /* ES_WIRE_PLAIN, ES_WIRE_AUTH or ES_WIRE_AEAD */
  const uint8_t *key; /* 32-byte link key (keyed modes) */
} es_wire_source_t;

/* Where the receiver reassembles one tensor of one sender, once per round in flight ("lane"). The
 * compiler fills the geometry from the sender's mtu and mode; the receiver keeps `received` and
 * `received_count`. */
typedef struct {
  uint8_t source;          /* expected sender device id */
  uint8_t tensor;          /* tensor id */
  uint16_t first_frame;    /* the sender's frame number of fragment 0 in each round */
  uint16_t fragment_count; /* fragments of the whole tensor */
  uint16_t fragment_bytes; /* payload of every fragment but the last (sender's mtu - overhead) */
  uint32_t bytes;          /* payload bytes of the whole tensor */
  uint8_t *data;           /* ES_WIRE_ROUNDS_IN_FLIGHT * bytes: lane l's tensor at l * bytes */
  uint8_t *received;       /* ES_WIRE_ROUNDS_IN_FLIGHT bitmaps of (fragment_count + 7) / 8 bytes */
  uint16_t received_count[ES_WIRE_ROUNDS_IN_FLIGHT]; /* distinct fragments arrived, per lane */
} es_wire_slot_t;

/* A round the receiver accepts frames for: opened by the aggregator (es_wire_open_round). */
typedef struct {
  uint32_t epoch, round;
  uint8_t open;
} es_wire_lane_t;

/* One count per outcome of es_wire_receive, so a field test can tell noise (bad_crc) from a
 * neighbouring fleet (bad_fingerprint) from an attack (bad_auth) without a debugger. */
typedef struct {
  uint32_t accepted;        /* frames whose payload was stored */
  uint32_t duplicate;       /* valid frames of a fragment already stored (ignored) */
  uint32_t bad_header;      /* too short, wrong magic, unknown flags */
  uint32_t bad_crc;         /* noise on an unkeyed link: the CRC does not match */
  uint32_t bad_auth;        /* tag wrong or missing, or the flags of another mode than the link's */
  uint32_t bad_fingerprint; /* another model's frames (unkeyed links; keyed: bad_auth) */
  uint32_t bad_length;      /* frame number or payload length inconsistent with the slot */
  uint32_t unknown_tensor;  /* no source or no slot for (source, tensor) */
  uint32_t stale;           /* a round that is not open: older, abandoned, or not opened yet */
} es_wire_counters_t;

/* The aggregator's receiver: it accepts data frames only for the rounds it opened, at most
 * ES_WIRE_ROUNDS_IN_FLIGHT at once, each reassembled in its own lane; no frame, however far ahead
 * its round, moves anything. Start with every lane closed (static storage, or
 * es_wire_receiver_reset). */
typedef struct {
  uint32_t fingerprint;
  const es_wire_source_t *sources;
  uint16_t source_count;
  es_wire_slot_t *slots;
  uint16_t slot_count;
  es_wire_lane_t lanes[ES_WIRE_ROUNDS_IN_FLIGHT];
  es_wire_counters_t counters;
} es_wire_receiver_t;

/* The result of es_wire_receive, one per counter. */
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

/* Opens round (epoch, round) for reassembly: it must be newer than every open round (else 0 and
 * nothing changes). When every lane is in use, the oldest open round is abandoned for it. */
int es_wire_open_round(es_wire_receiver_t *receiver, uint32_t epoch, uint32_t round);
/* Abandons an open round (its deadline passed): its frames are stale from now on. */
void es_wire_close_round(es_wire_receiver_t *receiver, uint32_t epoch, uint32_t round);

/* Validates one frame and stores its payload (decrypted on an AEAD link) in the lane of its round;
 * returns an ES_WIRE_ code and counts it. Never reads outside frame[0..len) and never writes
 * outside a slot's data/received arrays. Checks, in order (docs/wire.md "Rejection order"):
 * header, source, mode, CRC and fingerprint or tag, slot, slot geometry, round open, duplicate. */
int es_wire_receive(es_wire_receiver_t *receiver, const uint8_t *frame, size_t len);
/* 1 when every fragment of the slot arrived for round (epoch, round), which is open. */
int es_wire_slot_complete(const es_wire_receiver_t *receiver, const es_wire_slot_t *slot,
                          uint32_t epoch, uint32_t round);
/* The slot's tensor for open round (epoch, round), or NULL when the round is not open. */
const uint8_t *es_wire_slot_data(const es_wire_receiver_t *receiver, const es_wire_slot_t *slot,
                                 uint32_t epoch, uint32_t round);
/* Closes every round and forgets every arrived fragment (counters kept). */
void es_wire_receiver_reset(es_wire_receiver_t *receiver);

/* ---- Beacons: the aggregator opens each round by telling every sensor its (epoch, round) ----- */

/* Builds the beacon of round (epoch, round) from device `source` on a link of `mode` and key into
 * frame (at least ES_WIRE_BEACON_BYTES(mode) bytes); returns its length, 0 when a keyed mode has
 * no key. One beacon per round and link: its nonce uses frame number ES_WIRE_BEACON_FRAME, which
 * no data frame does. */
size_t es_wire_build_beacon(uint8_t *frame, uint32_t fingerprint, uint8_t source, int mode,
                            const uint8_t *key, uint32_t epoch, uint32_t round);

/* A sensor's view of the aggregator's rounds: the newest beacon it accepted. Start zeroed. */
typedef struct {
  uint32_t fingerprint;
  uint8_t aggregator; /* device id of the aggregator */
  uint8_t mode;       /* of the link to it */
  const uint8_t *key; /* the link's key (keyed modes) */
  uint32_t epoch, round;
  uint8_t has_round;
} es_wire_beacon_receiver_t;

/* Checks a beacon (layout, CRC and fingerprint or tag under the link key) and takes its round
 * when newer than the last one taken: ES_WIRE_ACCEPTED; an old or replayed beacon is
 * ES_WIRE_STALE; anything else the code of the first check that failed. */
int es_wire_receive_beacon(es_wire_beacon_receiver_t *beacons, const uint8_t *frame, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* ES_WIRE_H */

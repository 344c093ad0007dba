/* edgesplit runtime: relaying fleet frames along their compiled routes (docs/wire.md "Routes").
 * A device on a tensor's route between its producer and its reader forwards that tensor's frames
 * unchanged, store-and-forward per fragment through one static buffer of the largest frame it
 * relays; it holds no key of what it only forwards (the frames are tagged end to end under the
 * key of the producer and reader pair). The aggregator's beacons to a device more than one hop
 * away carry one byte more, after the beacon, the destination's device id: each relay looks it up
 * and the last one strips it, so the destination receives an ordinary beacon. C99, no
 * allocation. */
#ifndef ES_ROUTE_H
#define ES_ROUTE_H

#include "es_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The data frames of tensor `tensor` of device `source` leave on topology link `link`. */
typedef struct {
  uint8_t source, tensor, link;
} es_route_frame_hop_t;

/* Beacons addressed to device `destination` leave on `link`; `last_hop`: the next device is the
 * destination, so the address byte is stripped. */
typedef struct {
  uint8_t destination, link, last_hop;
} es_route_beacon_hop_t;

typedef struct {
  const es_route_frame_hop_t *frames;
  uint16_t frame_count;
  const es_route_beacon_hop_t *beacons;
  uint16_t beacon_count;
  uint8_t *buffer;       /* the relay's one frame buffer */
  uint16_t buffer_bytes; /* its size: the largest frame relayed */
  es_wire_send_fn send;
  uint32_t forwarded; /* frames sent on */
  uint32_t dropped;   /* addressed beacons or frames too long for the buffer, not relayed */
} es_route_relay_t;

/* Results of es_route_forward. */
enum {
  ES_ROUTE_FORWARDED = 1, /* sent on */
  ES_ROUTE_LOCAL = 0,     /* not relayed here: the device's own receiver takes (or drops) it */
  ES_ROUTE_DROPPED = -1   /* meant for relaying but not relayable here: dropped and counted */
};

/* Relays the frame when its route passes through this device. Reads only the header's flags,
 * source and tensor bytes (and an addressed beacon's last byte) after checking the length and
 * the magic: what it forwards is checked by its destination. */
int es_route_forward(es_route_relay_t *relay, const uint8_t *frame, size_t len);

/* Sends `beacon` (len bytes, from es_wire_build_beacon) towards `destination` on `link`: as it is
 * when the destination is the next device, else with the address byte appended (scratch holds
 * len + 1 bytes). */
void es_route_send_beacon(es_wire_send_fn send, uint8_t link, uint8_t destination, int last_hop,
                          const uint8_t *beacon, size_t len, uint8_t *scratch);

#ifdef __cplusplus
}
#endif

#endif /* ES_ROUTE_H */

/* Relaying fleet frames along their compiled routes (es_route.h, docs/wire.md "Routes"). */
#include "es_route.h"

#include <string.h>

enum { FLAGS_AT = 1, SOURCE_AT = 2, TENSOR_AT = 3 };

static int forward(es_route_relay_t *relay, uint8_t link, const uint8_t *frame, size_t len) {
  if (len > relay->buffer_bytes || relay->buffer == NULL || relay->send == NULL) {
    ++relay->dropped;
    return ES_ROUTE_DROPPED;
  }
  /* Store, then forward: the caller's frame may be the radio's buffer, reused on return. */
  memcpy(relay->buffer, frame, len);
  relay->send(link, relay->buffer, len);
  ++relay->forwarded;
  return ES_ROUTE_FORWARDED;
}

int es_route_forward(es_route_relay_t *relay, const uint8_t *frame, size_t len) {
  uint16_t i;
  if (frame == NULL || len < ES_WIRE_HEADER_BYTES || frame[0] != ES_WIRE_MAGIC)
    return ES_ROUTE_LOCAL;
  if (frame[FLAGS_AT] & ES_WIRE_FLAG_BEACON) {
    const size_t plain = ES_WIRE_BEACON_BYTES(ES_WIRE_PLAIN);
    const size_t keyed = ES_WIRE_BEACON_BYTES(ES_WIRE_AUTH);
    uint8_t destination;
    /* Without an address byte: a beacon for this device. */
    if (len != plain + 1u && len != keyed + 1u) return ES_ROUTE_LOCAL;
    destination = frame[len - 1u];
    for (i = 0; i < relay->beacon_count; ++i)
      if (relay->beacons[i].destination == destination)
        return forward(relay, relay->beacons[i].link, frame,
                       relay->beacons[i].last_hop ? len - 1u : len);
    ++relay->dropped;
    return ES_ROUTE_DROPPED;
  }
  for (i = 0; i < relay->frame_count; ++i)
    if (relay->frames[i].source == frame[SOURCE_AT] && relay->frames[i].tensor == frame[TENSOR_AT])
      return forward(relay, relay->frames[i].link, frame, len);
  return ES_ROUTE_LOCAL;
}

void es_route_send_beacon(es_wire_send_fn send, uint8_t link, uint8_t destination, int last_hop,
                          const uint8_t *beacon, size_t len, uint8_t *scratch) {
  if (len == 0) return;
  if (last_hop) {
    send(link, beacon, len);
    return;
  }
  memcpy(scratch, beacon, len);
  scratch[len] = destination;
  send(link, scratch, len + 1u);
}

// Relaying along compiled routes (runtime-c/src/wire_route.c, docs/wire.md "Routes"): data frames
// forwarded unchanged by (source, tensor), addressed beacons forwarded by destination with the
// address byte stripped on the last hop (the destination then takes an ordinary beacon), and
// everything else left to the device's own receiver or dropped, never read past its length.
#include "es_route.h"

#include <catch.hpp>

#include <cstring>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

struct Sent {
  uint8_t link;
  Bytes frame;
};
std::vector<Sent> sent;

void record(uint8_t link, const uint8_t *frame, size_t len) {
  sent.push_back({link, Bytes(frame, frame + len)});
}

Bytes dataFrame(uint8_t source, uint8_t tensor, size_t payload) {
  Bytes frame(ES_WIRE_HEADER_BYTES + payload + 8, 0x11);
  frame[0] = ES_WIRE_MAGIC;
  frame[1] = 0;
  frame[2] = source;
  frame[3] = tensor;
  return frame;
}

Bytes beacon(int mode, uint8_t aggregator, uint32_t round) {
  Bytes frame(ES_WIRE_BEACON_BYTES(mode));
  static const uint8_t key[32] = {1, 2, 3};
  REQUIRE(es_wire_build_beacon(frame.data(), 0x5eed1234u, aggregator, mode, key, 7, round) ==
          frame.size());
  return frame;
}

} // namespace

TEST_CASE("relays forward data frames unchanged by source and tensor", "[route]") {
  static const es_route_frame_hop_t frames[] = {{1, 0, 4}, {1, 2, 5}, {3, 0, 6}};
  uint8_t buffer[64];
  es_route_relay_t relay = {frames, 3, nullptr, 0, buffer, sizeof buffer, record, 0, 0};
  sent.clear();
  const Bytes a = dataFrame(1, 2, 20), b = dataFrame(3, 0, 40), mine = dataFrame(1, 1, 20);
  CHECK(es_route_forward(&relay, a.data(), a.size()) == ES_ROUTE_FORWARDED);
  CHECK(es_route_forward(&relay, b.data(), b.size()) == ES_ROUTE_FORWARDED);
  CHECK(es_route_forward(&relay, mine.data(), mine.size()) == ES_ROUTE_LOCAL);
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].link == 5);
  CHECK(sent[0].frame == a);
  CHECK(sent[1].link == 6);
  CHECK(sent[1].frame == b);
  CHECK(relay.forwarded == 2);
  // Longer than the relay's buffer: dropped and counted, not truncated.
  const Bytes big = dataFrame(1, 0, 64);
  CHECK(es_route_forward(&relay, big.data(), big.size()) == ES_ROUTE_DROPPED);
  CHECK(relay.dropped == 1);
  // Too short for a header, or not our magic: the device's receiver decides (and counts).
  const Bytes shorty(ES_WIRE_HEADER_BYTES - 1, ES_WIRE_MAGIC);
  CHECK(es_route_forward(&relay, shorty.data(), shorty.size()) == ES_ROUTE_LOCAL);
  Bytes other = a;
  other[0] ^= 0xFF;
  CHECK(es_route_forward(&relay, other.data(), other.size()) == ES_ROUTE_LOCAL);
  CHECK(sent.size() == 2);
}

TEST_CASE("addressed beacons reach their destination as ordinary beacons", "[route]") {
  for (int mode : {ES_WIRE_PLAIN, ES_WIRE_AUTH}) {
    static const es_route_beacon_hop_t middle[] = {{9, 3, 0}}, last[] = {{9, 4, 1}};
    uint8_t firstBuffer[64], secondBuffer[64], scratch[ES_WIRE_BEACON_BYTES(ES_WIRE_AEAD) + 1];
    es_route_relay_t first = {nullptr, 0, middle, 1, firstBuffer, 64, record, 0, 0};
    es_route_relay_t second = {nullptr, 0, last, 1, secondBuffer, 64, record, 0, 0};
    sent.clear();
    const Bytes plain = beacon(mode, 5, 42);
    // The aggregator, two hops from device 9: the beacon leaves with its address byte.
    es_route_send_beacon(record, 2, 9, 0, plain.data(), plain.size(), scratch);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].link == 2);
    CHECK(sent[0].frame.size() == plain.size() + 1);
    CHECK(sent[0].frame.back() == 9);
    const Bytes addressed = sent[0].frame;
    CHECK(es_route_forward(&first, addressed.data(), addressed.size()) == ES_ROUTE_FORWARDED);
    REQUIRE(sent.size() == 2);
    CHECK(sent[1].link == 3);
    CHECK(sent[1].frame == addressed);
    const Bytes relayed = sent[1].frame;
    CHECK(es_route_forward(&second, relayed.data(), relayed.size()) == ES_ROUTE_FORWARDED);
    REQUIRE(sent.size() == 3);
    CHECK(sent[2].link == 4);
    CHECK(sent[2].frame == plain);
    // The destination takes it as a beacon of its own.
    static const uint8_t key[32] = {1, 2, 3};
    es_wire_beacon_receiver_t beacons = {0x5eed1234u, 5, static_cast<uint8_t>(mode),
                                         mode == ES_WIRE_PLAIN ? nullptr : key, 0, 0, 0};
    CHECK(es_wire_receive_beacon(&beacons, sent[2].frame.data(), sent[2].frame.size()) ==
          ES_WIRE_ACCEPTED);
    CHECK(beacons.round == 42);
    // An ordinary beacon (for this device) is not relayed; one for an unknown destination is
    // dropped.
    CHECK(es_route_forward(&first, plain.data(), plain.size()) == ES_ROUTE_LOCAL);
    Bytes stray = addressed;
    stray.back() = 8;
    CHECK(es_route_forward(&first, stray.data(), stray.size()) == ES_ROUTE_DROPPED);
    CHECK(first.dropped == 1);
    // A one-hop beacon goes out as it is.
    sent.clear();
    es_route_send_beacon(record, 1, 9, 1, plain.data(), plain.size(), scratch);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].frame == plain);
  }
}

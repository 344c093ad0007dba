// How a tensor travels from the device that computes it to a device that reads it
// (docs/partition.md, "Routes"): over a directed path of the topology's links, the devices in
// between relaying its frames unchanged (store-and-forward per fragment). The sender cuts the
// tensor into frames of the smallest mtu on the path, so that every hop carries them as they are.
#pragma once

#include "partition/Topology.h"

#include <cstdint>
#include <vector>

namespace edgesplit {

struct Route {
  size_t from = 0, to = 0;   // topology device indices
  std::vector<size_t> links; // topology link indices in travel order; empty when from == to
  int64_t mtu = 0;           // the smallest mtu on the path (0: no hop)
  int64_t payloadBytes = 0;  // tensor bytes
  int64_t frames = 0;        // per hop
  int64_t airBytesPerHop = 0; // with every frame's overhead
  // Until the last fragment arrives: every hop's latency, the whole tensor over the slowest
  // hop, and one frame over each of the others (they overlap with the slowest).
  double ms = 0;
  double energyUj = 0; // every hop's radio energy
  double cost = 0;     // the topology's objective over ms, energy and bytes on air (all hops)

  size_t hops() const { return links.size(); }
  // The devices the frames pass through without being their destination.
  std::vector<size_t> relays(const Topology &topology) const;
};

// The estimate of sending `payloadBytes` along `links` (a path from `from` to `to`).
Route routeAlong(const Topology &topology, size_t from, size_t to, std::vector<size_t> links,
                 int64_t payloadBytes);

// The cheapest route for `payloadBytes` from device `from` to device `to` under the topology's
// objective, or none (links empty, cost infinite) when no path exists. Ties go to fewer hops,
// then to lower link indices, so the choice is deterministic.
Route cheapestRoute(const Topology &topology, size_t from, size_t to, int64_t payloadBytes);

} // namespace edgesplit

#include "partition/Routes.h"

#include "partition/Partition.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <tuple>

namespace edgesplit {

std::vector<size_t> Route::relays(const Topology &topology) const {
  std::vector<size_t> devices;
  for (size_t h = 0; h + 1 < links.size(); ++h)
    devices.push_back(topology.deviceIndex(topology.links[links[h]].to));
  return devices;
}

Route routeAlong(const Topology &topology, size_t from, size_t to, std::vector<size_t> links,
                 int64_t payloadBytes) {
  Route route;
  route.from = from;
  route.to = to;
  route.links = std::move(links);
  route.payloadBytes = payloadBytes;
  if (route.links.empty()) return route;
  route.mtu = std::numeric_limits<int64_t>::max();
  for (size_t link : route.links) route.mtu = std::min(route.mtu, topology.links[link].mtu);
  route.frames = wireFrames(payloadBytes, route.mtu, topology.keyed);
  route.airBytesPerHop = wireAirBytes(payloadBytes, route.mtu, topology.keyed);
  const double frameBytes =
      route.frames > 0 ? static_cast<double>(route.airBytesPerHop) / route.frames : 0.0;
  double slowestKbps = std::numeric_limits<double>::max(), oneFrameEach = 0;
  size_t slowest = 0;
  for (size_t h = 0; h < route.links.size(); ++h) {
    const TopologyLink &link = topology.links[route.links[h]];
    route.ms += link.latencyMs;
    route.energyUj += static_cast<double>(route.airBytesPerHop) * link.njPerByte / 1000.0;
    if (link.kbps < slowestKbps) {
      slowestKbps = link.kbps;
      slowest = h;
    }
  }
  for (size_t h = 0; h < route.links.size(); ++h)
    if (h != slowest) oneFrameEach += frameBytes * 8.0 / topology.links[route.links[h]].kbps;
  route.ms += static_cast<double>(route.airBytesPerHop) * 8.0 / slowestKbps + oneFrameEach;
  const Objective &objective = topology.objective;
  route.cost = objective.latency * route.ms + objective.energy * route.energyUj +
               objective.bytes * static_cast<double>(route.airBytesPerHop * route.hops());
  return route;
}

namespace {

// Dijkstra over the links whose mtu is at least `mtu`, each hop weighed as if it carried the
// whole tensor in frames of that mtu; (weight, hops, link indices) ordered lexicographically.
std::vector<size_t> cheapestPathAtMtu(const Topology &topology, size_t from, size_t to,
                                      int64_t payloadBytes, int64_t mtu) {
  using Key = std::tuple<double, size_t, std::vector<size_t>>;
  const size_t n = topology.devices.size();
  std::vector<std::optional<Key>> best(n);
  std::set<std::pair<Key, size_t>> pending;
  best[from] = Key{0.0, 0, {}};
  pending.insert({*best[from], from});
  const int64_t air = wireAirBytes(payloadBytes, mtu, topology.keyed);
  const Objective &objective = topology.objective;
  while (!pending.empty()) {
    auto [key, device] = *pending.begin();
    pending.erase(pending.begin());
    if (device == to) return std::get<2>(key);
    for (size_t l = 0; l < topology.links.size(); ++l) {
      const TopologyLink &link = topology.links[l];
      if (link.mtu < mtu || link.from != topology.devices[device].name) continue;
      const size_t next = topology.deviceIndex(link.to);
      const double weight =
          objective.latency * (static_cast<double>(air) * 8.0 / link.kbps + link.latencyMs) +
          objective.energy * static_cast<double>(air) * link.njPerByte / 1000.0 +
          objective.bytes * static_cast<double>(air);
      Key candidate{std::get<0>(key) + weight, std::get<1>(key) + 1, std::get<2>(key)};
      std::get<2>(candidate).push_back(l);
      if (best[next] && !(candidate < *best[next])) continue;
      if (best[next]) pending.erase({*best[next], next});
      best[next] = candidate;
      pending.insert({candidate, next});
    }
  }
  return {};
}

} // namespace

Route cheapestRoute(const Topology &topology, size_t from, size_t to, int64_t payloadBytes) {
  Route best;
  best.from = from;
  best.to = to;
  best.payloadBytes = payloadBytes;
  if (from == to) return best;
  best.cost = std::numeric_limits<double>::infinity();
  // The path's smallest mtu sets every hop's frames, so try each mtu as that smallest one.
  std::set<int64_t> mtus;
  for (const TopologyLink &link : topology.links) mtus.insert(link.mtu);
  for (int64_t mtu : mtus) {
    std::vector<size_t> links = cheapestPathAtMtu(topology, from, to, payloadBytes, mtu);
    if (links.empty()) continue;
    Route candidate = routeAlong(topology, from, to, std::move(links), payloadBytes);
    const size_t candidateHops = candidate.hops(), bestHops = best.hops();
    if (std::tie(candidate.cost, candidateHops, candidate.links) <
        std::tie(best.cost, bestHops, best.links))
      best = std::move(candidate);
  }
  return best;
}

} // namespace edgesplit

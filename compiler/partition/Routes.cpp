#include "partition/Routes.h"

#include "partition/Partition.h"

#include <algorithm>
#include <cmath>
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

// Whether `candidate` beats `best`: lower cost, then fewer hops, then lower link indices.
bool better(const Route &candidate, const Route &best) {
  const size_t candidateHops = candidate.hops(), bestHops = best.hops();
  return std::tie(candidate.cost, candidateHops, candidate.links) <
         std::tie(best.cost, bestHops, best.links);
}

// Depth-first over the simple paths from `from`, cut off where a path's lower bound exceeds the
// best route so far. The bound of a partial path: its latencies, its bytes in frames of its
// smallest mtu so far (a longer path can only lower the mtu, which only adds frames) over its
// slowest link so far, and those bytes' energy and count on each of its hops; routeAlong's
// estimate of any extension is at least that.
class PathSearch {
public:
  PathSearch(const Topology &topology, size_t to, int64_t payloadBytes, Route &best)
      : topology_(topology), to_(to), payloadBytes_(payloadBytes), best_(best),
        visited_(topology.devices.size(), false) {}

  void walk(size_t device, int64_t mtu, double slowestKbps, double latencyMs, double njPerByte) {
    if (!path_.empty()) {
      const double air = static_cast<double>(wireAirBytes(payloadBytes_, mtu, topology_.keyed));
      const Objective &objective = topology_.objective;
      const double bound = objective.latency * (latencyMs + air * 8.0 / slowestKbps) +
                           objective.energy * air * njPerByte / 1000.0 +
                           objective.bytes * air * static_cast<double>(path_.size());
      // The slack keeps a path whose estimate equals the best's (a tie on fewer hops or lower
      // indices) from being cut off by rounding.
      if (bound > best_.cost + 1e-9 * std::abs(best_.cost)) return;
      if (device == to_) {
        Route candidate = routeAlong(topology_, best_.from, to_, path_, payloadBytes_);
        if (better(candidate, best_)) best_ = std::move(candidate);
        return;
      }
    }
    visited_[device] = true;
    for (size_t l = 0; l < topology_.links.size(); ++l) {
      const TopologyLink &link = topology_.links[l];
      if (link.from != topology_.devices[device].name) continue;
      const size_t next = topology_.deviceIndex(link.to);
      if (visited_[next]) continue;
      path_.push_back(l);
      walk(next, std::min(mtu, link.mtu), std::min(slowestKbps, link.kbps),
           latencyMs + link.latencyMs, njPerByte + link.njPerByte);
      path_.pop_back();
    }
    visited_[device] = false;
  }

private:
  const Topology &topology_;
  size_t to_;
  int64_t payloadBytes_;
  Route &best_;
  std::vector<bool> visited_;
  std::vector<size_t> path_;
};

} // namespace

Route cheapestRoute(const Topology &topology, size_t from, size_t to, int64_t payloadBytes) {
  Route best;
  best.from = from;
  best.to = to;
  best.payloadBytes = payloadBytes;
  if (from == to) return best;
  best.cost = std::numeric_limits<double>::infinity();
  // A good first route for the search to beat: for each mtu as the path's smallest, the path
  // Dijkstra finds when every hop carries the whole tensor in frames of that mtu.
  std::set<int64_t> mtus;
  for (const TopologyLink &link : topology.links) mtus.insert(link.mtu);
  for (int64_t mtu : mtus) {
    std::vector<size_t> links = cheapestPathAtMtu(topology, from, to, payloadBytes, mtu);
    if (links.empty()) continue;
    Route candidate = routeAlong(topology, from, to, std::move(links), payloadBytes);
    if (better(candidate, best)) best = std::move(candidate);
  }
  // Dijkstra's hop weights ignore that the hops overlap (routeAlong), so it can miss the
  // cheapest path: the search over every simple path settles it.
  PathSearch(topology, to, payloadBytes, best)
      .walk(from, std::numeric_limits<int64_t>::max(), std::numeric_limits<double>::max(), 0.0,
            0.0);
  return best;
}

} // namespace edgesplit

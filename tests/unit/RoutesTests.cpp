// partition/Routes: the cheapest route of a tensor over multi-hop paths, checked against every
// simple path of small random topologies.
#include "TopologyBuilder.h"
#include "partition/Partition.h"
#include "partition/Routes.h"

#include <catch.hpp>

#include <functional>
#include <limits>
#include <random>
#include <tuple>

using namespace edgesplit;
using edgesplit::test::link;

namespace {

Topology devices(size_t count) {
  Topology topology;
  topology.source = "routes.json";
  for (size_t d = 0; d < count; ++d) {
    TopologyDevice device;
    device.name = "d" + std::to_string(d);
    device.aggregator = d + 1 == count;
    topology.devices.push_back(device);
  }
  return topology;
}

// Every simple path from `from` to `to` as link indices.
std::vector<std::vector<size_t>> simplePaths(const Topology &topology, size_t from, size_t to) {
  std::vector<std::vector<size_t>> paths;
  std::vector<size_t> path;
  std::vector<bool> visited(topology.devices.size(), false);
  std::function<void(size_t)> walk = [&](size_t device) {
    if (device == to) {
      paths.push_back(path);
      return;
    }
    visited[device] = true;
    for (size_t l = 0; l < topology.links.size(); ++l) {
      const TopologyLink &candidate = topology.links[l];
      if (candidate.from != topology.devices[device].name) continue;
      const size_t next = topology.deviceIndex(candidate.to);
      if (visited[next]) continue;
      path.push_back(l);
      walk(next);
      path.pop_back();
    }
    visited[device] = false;
  };
  walk(from);
  return paths;
}

} // namespace

TEST_CASE("routes: one direct link", "[routes]") {
  Topology topology = devices(2);
  link(topology, 0, 1, 1000, 7.5, 244, 80);
  const Route route = cheapestRoute(topology, 0, 1, 1000);
  REQUIRE(route.links == std::vector<size_t>{0});
  CHECK(route.mtu == 244);
  CHECK(route.frames == wireFrames(1000, 244, false));
  CHECK(route.airBytesPerHop == wireAirBytes(1000, 244, false));
  CHECK(route.ms == Approx(7.5 + static_cast<double>(route.airBytesPerHop) * 8.0 / 1000.0));
  CHECK(route.energyUj == Approx(static_cast<double>(route.airBytesPerHop) * 80.0 / 1000.0));
  CHECK(route.cost == Approx(route.ms + route.energyUj));
  CHECK(route.relays(topology).empty());
}

TEST_CASE("routes: the same device and no path", "[routes]") {
  Topology topology = devices(3);
  link(topology, 0, 2, 1000, 1, 100);
  const Route same = cheapestRoute(topology, 1, 1, 500);
  CHECK(same.links.empty());
  CHECK(same.cost == 0);
  CHECK(same.hops() == 0);
  const Route none = cheapestRoute(topology, 1, 2, 500); // d1 has no outgoing link
  CHECK(none.links.empty());
  CHECK(none.cost == std::numeric_limits<double>::infinity());
  const Route backwards = cheapestRoute(topology, 2, 0, 500); // links are directed
  CHECK(backwards.links.empty());
  CHECK(backwards.cost == std::numeric_limits<double>::infinity());
}

TEST_CASE("routes: a relay path when it beats the direct link; the smallest mtu frames it",
          "[routes]") {
  Topology topology = devices(3);
  link(topology, 0, 2, 10, 50, 244);   // slow and late
  link(topology, 0, 1, 1000, 1, 64);   // fast, small frames
  link(topology, 1, 2, 1000, 1, 244);
  const Route route = cheapestRoute(topology, 0, 2, 600);
  REQUIRE(route.links == std::vector<size_t>{1, 2});
  CHECK(route.mtu == 64);
  CHECK(route.frames == wireFrames(600, 64, false));
  CHECK(route.airBytesPerHop == wireAirBytes(600, 64, false));
  CHECK(route.relays(topology) == std::vector<size_t>{1});
  // Both hops' radio energy and bytes count.
  topology.objective = {0.0, 0.0, 1.0};
  const Route bytes = cheapestRoute(topology, 0, 2, 600);
  REQUIRE(bytes.links == std::vector<size_t>{0}); // one hop of 244-byte frames carries fewer bytes
  CHECK(bytes.cost == static_cast<double>(wireAirBytes(600, 244, false)));
}

TEST_CASE("routes: ties go to fewer hops, then to lower link indices", "[routes]") {
  Topology topology = devices(4);
  // Two identical two-hop paths 0->1->3 and 0->2->3: the one with the lower first link index.
  link(topology, 0, 2, 1000, 1, 100);
  link(topology, 0, 1, 1000, 1, 100);
  link(topology, 2, 3, 1000, 1, 100);
  link(topology, 1, 3, 1000, 1, 100);
  topology.objective = {0.0, 0.0, 0.0}; // every path costs 0
  CHECK(cheapestRoute(topology, 0, 3, 300).links == std::vector<size_t>{0, 2});
  link(topology, 0, 3, 1, 1000, 100); // a direct link, far slower but free under this objective
  CHECK(cheapestRoute(topology, 0, 3, 300).links == std::vector<size_t>{4});
}

TEST_CASE("routes: the cheapest of every simple path on random topologies", "[routes]") {
  std::mt19937 random(18);
  const double objectives[][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 0.01}};
  for (int trial = 0; trial < 20000; ++trial) {
    const size_t count = 2 + random() % 5;
    Topology topology = devices(count);
    const size_t links = random() % (count * (count - 1) + 1);
    for (size_t l = 0; l < links; ++l) {
      const size_t from = random() % count, to = random() % count;
      if (from == to) continue;
      const double kbps[] = {10, 250, 1000, 2000};
      const int64_t mtus[] = {40, 64, 128, 244};
      link(topology, from, to, kbps[random() % 4], static_cast<double>(random() % 20),
           mtus[random() % 4], static_cast<double>(random() % 200));
    }
    const auto &objective = objectives[random() % 4];
    topology.objective = {objective[0], objective[1], objective[2]};
    const int64_t payload = 1 + static_cast<int64_t>(random() % 3000);
    const size_t from = random() % count, to = random() % count;
    if (from == to) continue;
    INFO("trial " << trial);
    const Route route = cheapestRoute(topology, from, to, payload);
    const auto paths = simplePaths(topology, from, to);
    if (paths.empty()) {
      CHECK(route.links.empty());
      continue;
    }
    Route best;
    best.cost = std::numeric_limits<double>::infinity();
    for (const auto &path : paths) {
      Route candidate = routeAlong(topology, from, to, path, payload);
      const size_t candidateHops = candidate.hops(), bestHops = best.hops();
      if (std::tie(candidate.cost, candidateHops, candidate.links) <
          std::tie(best.cost, bestHops, best.links))
        best = candidate;
    }
    CHECK(route.cost == Approx(best.cost));
    CHECK(route.links == best.links);
    // The route's figures are those of its path.
    const Route along = routeAlong(topology, from, to, route.links, payload);
    CHECK(route.mtu == along.mtu);
    CHECK(route.ms == along.ms);
  }
}

// Topologies built in code for the partition tests (no JSON): links between devices by index.
#pragma once

#include "partition/Topology.h"

namespace edgesplit::test {

inline void link(Topology &topology, size_t from, size_t to, double kbps, double latencyMs,
                 int64_t mtu, double njPerByte = 0) {
  TopologyLink link;
  link.from = topology.devices[from].name;
  link.to = topology.devices[to].name;
  link.kbps = kbps;
  link.latencyMs = latencyMs;
  link.mtu = mtu;
  link.njPerByte = njPerByte;
  topology.links.push_back(link);
}

} // namespace edgesplit::test

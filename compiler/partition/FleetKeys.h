// The fleet's keys (docs/security.md): a master key read from a keys file that is never part of
// the topology, the fingerprint, a report or a generated file, and the per-link keys derived from
// it with HKDF-SHA256 (RFC 5869), which are what the devices hold.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace edgesplit {

using MasterKey = std::array<uint8_t, 32>;
using LinkKey = std::array<uint8_t, 32>;

// The master key of a keys file (`{"schema": "edgesplit-keys/1", "master_key_hex": "<64 hex>"}`);
// a malformed file or a weak key (all zero, one repeated pattern, a counting sequence, the
// documented example) is an error naming the file.
MasterKey parseKeysFile(std::string_view text, const std::string &source);
MasterKey loadKeysFile(const std::string &path);

// HKDF-SHA256 with salt "edgesplit-link-key/1", the master key as input keying material and info
// "edgesplit link " followed by the link's sending and receiving device ids (one byte each).
LinkKey deriveLinkKey(const MasterKey &master, uint8_t fromDevice, uint8_t toDevice);

} // namespace edgesplit

// The fleet's keys (compiler/partition/FleetKeys.cpp): keys files read strictly, weak keys
// refused, and the per-link keys of HKDF-SHA256 (RFC 5869) against a value computed outside
// OpenSSL (Python's hmac, RFC 5869's two steps written out) and by `openssl kdf`.
#include "partition/FleetKeys.h"
#include "support/Error.h"

#include <catch.hpp>

#include <set>
#include <string>

using namespace edgesplit;

namespace {

std::string keysFile(const std::string &hex) {
  return R"({"schema": "edgesplit-keys/1", "master_key_hex": ")" + hex + R"("})";
}

std::string errorOf(const std::string &text) {
  try {
    parseKeysFile(text, "keys.json");
  } catch (const Error &error) {
    return error.what();
  }
  return "(no error)";
}

const std::string kGood = "7d3f0a92c4e1b85603fa17d9e2486cb1a05f93e7d21c8b4466f0ae3915cd72b8";

} // namespace

TEST_CASE("keys: a good keys file gives its key", "[keys]") {
  const MasterKey key = parseKeysFile(keysFile(kGood), "keys.json");
  CHECK(key[0] == 0x7d);
  CHECK(key[31] == 0xb8);
  // Upper-case digits are the same key.
  std::string upper = kGood;
  for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(parseKeysFile(keysFile(upper), "keys.json") == key);
}

TEST_CASE("keys: malformed files are one-line errors that never quote the key", "[keys]") {
  CHECK(errorOf("{") ==
        "keys.json: invalid JSON; a keys file is {\"schema\": \"edgesplit-keys/1\", "
        "\"master_key_hex\": \"<64 hex digits>\"} (docs/security.md)");
  CHECK(errorOf(R"({"master_key_hex": ")" + kGood + R"("})") ==
        "keys.json: /schema: expected \"edgesplit-keys/1\"");
  CHECK(errorOf(R"({"schema": "edgesplit-keys/1"})").find("/master_key_hex: missing") !=
        std::string::npos);
  CHECK(errorOf(keysFile(kGood.substr(2))) ==
        "keys.json: /master_key_hex: expected 64 hex digits (a 32-byte key), got 62 characters");
  CHECK(errorOf(keysFile("x" + kGood.substr(1))) ==
        "keys.json: /master_key_hex: offset 0 is not a hex digit; use 0-9 a-f A-F");
  CHECK(errorOf(R"({"schema": "edgesplit-keys/1", "master_key_hex": ")" + kGood +
                R"(", "note": 1})") == "keys.json: /note: unknown key; expected one of schema, "
                                       "master_key_hex");
  for (const std::string &text : {std::string("{"), keysFile(kGood.substr(2)), keysFile("x" + kGood.substr(1))})
    CHECK(errorOf(text).find(kGood.substr(4, 20)) == std::string::npos);
}

TEST_CASE("keys: weak keys are refused", "[keys]") {
  const std::string suffix = "; generate one with `openssl rand -hex 32`";
  auto weak = [&](const std::string &hex, const std::string &why) {
    CHECK(errorOf(keysFile(hex)) == "keys.json: /master_key_hex: weak key refused: " + why + suffix);
  };
  weak(std::string(64, '0'), "it is all zero");
  weak(std::string(64, 'f'), "it is one byte repeated");
  std::string pattern;
  for (int i = 0; i < 8; ++i) pattern += "deadbeef";
  weak(pattern, "it repeats a 4-byte pattern");
  weak("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
       "it is the example key of docs/security.md");
  weak("1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100",
       "it is a counting sequence");
  weak("0101010101010101010101010101010101010101010101010101010101020304",
       "it has fewer than 8 distinct bytes");
  CHECK(errorOf(keysFile(kGood)) == "(no error)");
}

TEST_CASE("keys: per-link keys are HKDF-SHA256 of the master key and the link's ends", "[keys]") {
  MasterKey master{};
  for (size_t i = 0; i < master.size(); ++i) master[i] = static_cast<uint8_t>(0x0b + 7 * i);
  const LinkKey wristToHub = deriveLinkKey(master, 0, 3);
  // Deterministic, and different for each link, each direction and each master key.
  CHECK(deriveLinkKey(master, 0, 3) == wristToHub);
  std::set<LinkKey> keys;
  for (uint8_t from = 0; from < 4; ++from)
    for (uint8_t to = 0; to < 4; ++to)
      if (from != to) keys.insert(deriveLinkKey(master, from, to));
  CHECK(keys.size() == 12);
  MasterKey other = master;
  other[31] ^= 1;
  CHECK(deriveLinkKey(other, 0, 3) != wristToHub);
  // PRK = HMAC-SHA256("edgesplit-link-key/1", master); OKM = HMAC-SHA256(PRK, "edgesplit link "
  // 00 03 01), as Python's hmac computes them and `openssl kdf -keylen 32 -kdfopt digest:SHA256
  // -kdfopt hexkey:<master> -kdfopt salt:edgesplit-link-key/1 -kdfopt hexinfo:<info> HKDF` prints.
  const LinkKey expected = {0x5f, 0x19, 0xd3, 0xe5, 0x02, 0xa4, 0xa4, 0xda, 0xb0, 0x16, 0xa9,
                            0x77, 0xf7, 0xa6, 0xc6, 0x15, 0xa7, 0x15, 0x91, 0x0a, 0xa1, 0x2a,
                            0x3f, 0xe5, 0x74, 0xe9, 0xd4, 0x38, 0x03, 0x68, 0x02, 0x72};
  CHECK(wristToHub == expected);
}

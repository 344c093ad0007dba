#include "partition/FleetKeys.h"

#include "support/Error.h"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <fstream>
#include <memory>
#include <set>
#include <sstream>

namespace edgesplit {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kSchema = "edgesplit-keys/1";
constexpr std::string_view kSalt = "edgesplit-link-key/1";
constexpr std::string_view kInfo = "edgesplit link ";
// The key docs/security.md shows in its example keys file: refused, as anything published is.
constexpr std::string_view kDocumentedExample =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Why `key` must not protect a fleet, or "" when nothing obvious is wrong with it. A real key comes
// from a random generator; these are the keys people type.
std::string weakness(const MasterKey &key, const std::string &hex) {
  std::string lower;
  for (char c : hex) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == kDocumentedExample) return "it is the example key of docs/security.md";
  for (size_t period = 1; period <= key.size() / 2; ++period) {
    bool repeats = true;
    for (size_t i = period; i < key.size() && repeats; ++i) repeats = key[i] == key[i - period];
    if (repeats)
      return period == 1 ? (key[0] == 0 ? "it is all zero" : "it is one byte repeated")
                         : fmt::format("it repeats a {}-byte pattern", period);
  }
  const int step = static_cast<uint8_t>(key[1] - key[0]);
  bool counting = true;
  for (size_t i = 1; i < key.size() && counting; ++i)
    counting = static_cast<uint8_t>(key[i] - key[i - 1]) == step;
  if (counting) return "it is a counting sequence";
  if (std::set<uint8_t>(key.begin(), key.end()).size() < 8)
    return "it has fewer than 8 distinct bytes";
  return "";
}

} // namespace

MasterKey parseKeysFile(std::string_view text, const std::string &source) {
  auto error = [&](const std::string &pointer, const std::string &message) {
    fail("{}: {}: {}", source, pointer, message);
  };
  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::exception &) {
    // The parser's message would quote the file's bytes, which may be key digits.
    fail("{}: invalid JSON; a keys file is {{\"schema\": \"{}\", \"master_key_hex\": \"<64 hex "
         "digits>\"}} (docs/security.md)",
         source, kSchema);
  }
  if (!root.is_object())
    fail("{}: expected a JSON object at the top level; see docs/security.md", source);
  for (const auto &[key, value] : root.items())
    if (key != "schema" && key != "master_key_hex")
      error("/" + key, "unknown key; expected one of schema, master_key_hex");
  if (!root.contains("schema") || !root["schema"].is_string() || root["schema"] != kSchema)
    error("/schema", fmt::format("expected \"{}\"", kSchema));
  if (!root.contains("master_key_hex") || !root["master_key_hex"].is_string())
    error("/master_key_hex", "missing or not a string; give the 32-byte master key as 64 hex "
                             "digits, e.g. from `openssl rand -hex 32`");
  const std::string hex = root["master_key_hex"];
  if (hex.size() != 64)
    error("/master_key_hex",
          fmt::format("expected 64 hex digits (a 32-byte key), got {} characters", hex.size()));
  MasterKey key{};
  for (size_t i = 0; i < key.size(); ++i) {
    const int high = hexDigit(hex[2 * i]), low = hexDigit(hex[2 * i + 1]);
    if (high < 0 || low < 0)
      error("/master_key_hex",
            fmt::format("offset {} is not a hex digit; use 0-9 a-f A-F", high < 0 ? 2 * i : 2 * i + 1));
    key[i] = static_cast<uint8_t>(high << 4 | low);
  }
  if (const std::string why = weakness(key, hex); !why.empty())
    error("/master_key_hex", fmt::format("weak key refused: {}; generate one with `openssl rand "
                                         "-hex 32`",
                                         why));
  return key;
}

MasterKey loadKeysFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail("{}: cannot read the keys file; check the path given to --keys", path);
  std::ostringstream text;
  text << file.rdbuf();
  return parseKeysFile(text.str(), path);
}

LinkKey deriveLinkKey(const MasterKey &master, uint8_t fromDevice, uint8_t toDevice) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
      EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr), EVP_PKEY_CTX_free);
  std::string info(kInfo);
  info += static_cast<char>(fromDevice);
  info += static_cast<char>(toDevice);
  LinkKey key{};
  size_t length = key.size();
  if (!context || EVP_PKEY_derive_init(context.get()) <= 0 ||
      EVP_PKEY_CTX_set_hkdf_md(context.get(), EVP_sha256()) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_salt(context.get(), reinterpret_cast<const unsigned char *>(kSalt.data()),
                                  static_cast<int>(kSalt.size())) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_key(context.get(), master.data(), static_cast<int>(master.size())) <= 0 ||
      EVP_PKEY_CTX_add1_hkdf_info(context.get(), reinterpret_cast<const unsigned char *>(info.data()),
                                  static_cast<int>(info.size())) <= 0 ||
      EVP_PKEY_derive(context.get(), key.data(), &length) <= 0 || length != key.size())
    fail("internal error: OpenSSL's HKDF-SHA256 failed");
  return key;
}

} // namespace edgesplit

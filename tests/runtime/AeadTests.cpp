// ChaCha20-Poly1305 of runtime-c/src/aead.c: RFC 8439's test vectors, then random keys, nonces,
// associated data and messages of every length up to a few blocks against OpenSSL's
// EVP_chacha20_poly1305 (Debian's libcrypto), and tampering of each kind refused.
#include "es_aead.h"

#include <catch.hpp>
#include <openssl/evp.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

Bytes hex(const std::string &text) {
  Bytes out;
  std::string digits;
  for (char c : text)
    if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
  for (size_t i = 0; i + 1 < digits.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  return out;
}

Bytes ascii(const std::string &text) { return Bytes(text.begin(), text.end()); }

const std::string kSunscreen = "Ladies and Gentlemen of the class of '99: If I could offer you only "
                               "one tip for the future, sunscreen would be it.";

// OpenSSL's seal of `plain`: ciphertext then the 16-byte tag.
Bytes opensslSeal(const Bytes &key, const Bytes &nonce, const Bytes &aad, const Bytes &plain) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  REQUIRE(ctx != nullptr);
  Bytes out(plain.size() + 16);
  int len = 0;
  REQUIRE(EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), nullptr, nullptr, nullptr) == 1);
  REQUIRE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, nullptr) == 1);
  REQUIRE(EVP_EncryptInit_ex(ctx, nullptr, nullptr, key.data(), nonce.data()) == 1);
  if (!aad.empty()) REQUIRE(EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), int(aad.size())) == 1);
  if (!plain.empty())
    REQUIRE(EVP_EncryptUpdate(ctx, out.data(), &len, plain.data(), int(plain.size())) == 1);
  REQUIRE(EVP_EncryptFinal_ex(ctx, out.data() + plain.size(), &len) == 1);
  REQUIRE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out.data() + plain.size()) == 1);
  EVP_CIPHER_CTX_free(ctx);
  return out;
}

} // namespace

TEST_CASE("ChaCha20 gives RFC 8439's keystream and encryption vectors", "[aead]") {
  // 2.4.2: key 00..1f, nonce 00 00 00 00 00 00 00 4a 00 00 00 00, block counter 1.
  Bytes key(32);
  for (size_t i = 0; i < key.size(); ++i) key[i] = uint8_t(i);
  const Bytes nonce = hex("000000000000004a00000000");
  const Bytes plain = ascii(kSunscreen);
  Bytes out(plain.size());
  es_chacha20_xor(key.data(), 1, nonce.data(), plain.data(), out.data(), plain.size());
  CHECK(out == hex("6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
                   "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
                   "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
                   "5af90bbf74a35be6b40b8eedf2785e42874d"));
  // In place gives the same, and applying it twice gives the plaintext back.
  Bytes inPlace = plain;
  es_chacha20_xor(key.data(), 1, nonce.data(), inPlace.data(), inPlace.data(), inPlace.size());
  CHECK(inPlace == out);
  es_chacha20_xor(key.data(), 1, nonce.data(), inPlace.data(), inPlace.data(), inPlace.size());
  CHECK(inPlace == plain);
}

TEST_CASE("Poly1305 gives RFC 8439's vector and the 2^130 - 5 edge cases", "[aead]") {
  const Bytes key = hex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
  const Bytes message = ascii("Cryptographic Forum Research Group");
  uint8_t tag[16];
  es_poly1305(key.data(), message.data(), message.size(), tag);
  CHECK(Bytes(tag, tag + 16) == hex("a8061dc1305136c6c22b8baf0c0127a9"));
  // RFC 8439 A.3 #5 (a partly reduced result that is not fully reduced) and #6 (adding s
  // overflows 2^128).
  {
    const Bytes k = hex("0200000000000000000000000000000000000000000000000000000000000000");
    const Bytes m = hex("ffffffffffffffffffffffffffffffff");
    const Bytes padded = hex("02000000000000000000000000000000");
    const Bytes keyWithS = hex("02000000000000000000000000000000ffffffffffffffffffffffffffffffff");
    es_poly1305(keyWithS.data(), padded.data(), padded.size(), tag);
    CHECK(Bytes(tag, tag + 16) == hex("03000000000000000000000000000000"));
    es_poly1305(k.data(), m.data(), m.size(), tag);
    CHECK(Bytes(tag, tag + 16) == hex("03000000000000000000000000000000"));
  }
}

TEST_CASE("the AEAD gives RFC 8439 2.8.2's ciphertext and tag and opens it", "[aead]") {
  Bytes key(32);
  for (size_t i = 0; i < key.size(); ++i) key[i] = uint8_t(0x80 + i);
  const Bytes nonce = hex("070000004041424344454647");
  const Bytes aad = hex("50515253c0c1c2c3c4c5c6c7");
  Bytes data = ascii(kSunscreen);
  uint8_t tag[16];
  es_aead_seal(key.data(), nonce.data(), aad.data(), aad.size(), data.data(), data.size(), tag);
  CHECK(data == hex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
                    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
                    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
                    "3ff4def08e4b7a9de576d26586cec64b6116"));
  CHECK(Bytes(tag, tag + 16) == hex("1ae10b594f09e26a7e902ecbd0600691"));
  REQUIRE(es_aead_open(key.data(), nonce.data(), aad.data(), aad.size(), data.data(), data.size(),
                       tag) == 1);
  CHECK(data == ascii(kSunscreen));
}

TEST_CASE("random messages seal as OpenSSL seals them, and any change is refused", "[aead]") {
  std::mt19937 rng(8439);
  auto bytes = [&](size_t n) {
    Bytes out(n);
    for (uint8_t &b : out) b = uint8_t(rng());
    return out;
  };
  for (size_t round = 0; round < 400; ++round) {
    const Bytes key = bytes(32), nonce = bytes(12);
    const Bytes aad = bytes(rng() % 50), plain = bytes(round % 200);
    const Bytes expected = opensslSeal(key, nonce, aad, plain);
    Bytes data = plain;
    uint8_t tag[16];
    es_aead_seal(key.data(), nonce.data(), aad.data(), aad.size(), data.data(), data.size(), tag);
    REQUIRE(Bytes(data) == Bytes(expected.begin(), expected.begin() + long(plain.size())));
    REQUIRE(Bytes(tag, tag + 16) == Bytes(expected.end() - 16, expected.end()));
    // The two-part associated data is the concatenation.
    uint8_t split[16];
    const size_t cut = aad.empty() ? 0 : rng() % aad.size();
    es_aead_tag(key.data(), nonce.data(), aad.data(), cut, aad.data() + cut, aad.size() - cut,
                data.data(), data.size(), split);
    REQUIRE(std::memcmp(split, tag, 16) == 0);

    // One flipped bit anywhere (ciphertext, tag, associated data, nonce) is refused and leaves
    // the ciphertext as it was.
    Bytes tamperedAad = aad, tamperedNonce = nonce, tampered = data;
    uint8_t tamperedTag[16];
    std::memcpy(tamperedTag, tag, 16);
    const uint8_t bit = uint8_t(1u << (rng() % 8));
    switch (round % 4) {
    case 0:
      if (tampered.empty()) continue;
      tampered[rng() % tampered.size()] ^= bit;
      break;
    case 1: tamperedTag[rng() % 16] ^= bit; break;
    case 2:
      if (tamperedAad.empty()) continue;
      tamperedAad[rng() % tamperedAad.size()] ^= bit;
      break;
    default: tamperedNonce[rng() % 12] ^= bit; break;
    }
    const Bytes before = tampered;
    CHECK(es_aead_open(key.data(), tamperedNonce.data(), tamperedAad.data(), tamperedAad.size(),
                       tampered.data(), tampered.size(), tamperedTag) == 0);
    CHECK(tampered == before);
    REQUIRE(es_aead_open(key.data(), nonce.data(), aad.data(), aad.size(), data.data(),
                         data.size(), tag) == 1);
    CHECK(data == plain);
  }
}

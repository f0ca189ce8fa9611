#include "base/digest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>

namespace streamflow::base {

Sha256 sha256(std::string_view data) {
  Sha256 out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

// HmacSha256 keeps its precomputed inner/outer states as plain SHA256_CTX structs: copying one
// is a memcpy, where EVP_MD_CTX_copy_ex costs thousands of instructions per id. OpenSSL 3 marks
// the SHA256_* functions deprecated, not removed; they remain the cheapest way to do this.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

struct HmacSha256::State {
  SHA256_CTX inner;  // after absorbing key ^ ipad
  SHA256_CTX outer;  // after absorbing key ^ opad
};

HmacSha256::HmacSha256(std::string_view key) : state_(new State) {
  constexpr std::size_t kBlock = 64;
  std::array<std::uint8_t, kBlock> k{};
  if (key.size() > kBlock) {
    const auto d = sha256(key);
    std::copy(d.begin(), d.end(), k.begin());
  } else {
    std::copy(key.begin(), key.end(), k.begin());
  }
  std::array<std::uint8_t, kBlock> ipad{}, opad{};
  for (std::size_t i = 0; i < kBlock; ++i) {
    ipad[i] = static_cast<std::uint8_t>(k[i] ^ 0x36);
    opad[i] = static_cast<std::uint8_t>(k[i] ^ 0x5c);
  }
  SHA256_Init(&state_->inner);
  SHA256_Update(&state_->inner, ipad.data(), ipad.size());
  SHA256_Init(&state_->outer);
  SHA256_Update(&state_->outer, opad.data(), opad.size());
}

HmacSha256::~HmacSha256() { delete state_; }

Sha256 HmacSha256::mac(std::string_view data) const {
  Sha256 inner{}, out{};
  SHA256_CTX ctx = state_->inner;
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(inner.data(), &ctx);
  ctx = state_->outer;
  SHA256_Update(&ctx, inner.data(), inner.size());
  SHA256_Final(out.data(), &ctx);
  return out;
}

#pragma GCC diagnostic pop

std::string to_hex(const std::uint8_t* bytes, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

}  // namespace streamflow::base

#pragma once
/// SHA-256 and hex encoding (OpenSSL's libcrypto), for checksums and derived ids.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace streamflow::base {

using Sha256 = std::array<std::uint8_t, 32>;

Sha256 sha256(std::string_view data);
/// HMAC-SHA256 under a fixed key, with the keyed inner and outer SHA-256 states computed once
/// (the one-shot HMAC() sets up a context per call, ~1 us). Immutable; thread-safe.
class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;
  Sha256 mac(std::string_view data) const;

 private:
  struct State;
  State* state_;
};

/// Lower-case hex of the bytes.
std::string to_hex(const std::uint8_t* bytes, std::size_t n);
inline std::string to_hex(const Sha256& d) { return to_hex(d.data(), d.size()); }

}  // namespace streamflow::base

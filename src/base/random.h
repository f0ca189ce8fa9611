#pragma once
/// Cryptographically random bytes and tokens from the kernel (getrandom).

#include <cstdint>
#include <string>
#include <vector>

namespace streamflow::base {

std::vector<std::uint8_t> random_bytes(std::size_t n);

/// A password-grade token of `length` characters from [A-Za-z0-9].
std::string random_token(std::size_t length);

/// Base64url without padding (the form Kafka uses for cluster ids).
std::string base64url(const std::vector<std::uint8_t>& bytes);

}  // namespace streamflow::base

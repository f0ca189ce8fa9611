#pragma once
/// The national id (randomuser `id.value`) is never stored in clear: it becomes a keyed hash,
/// HMAC-SHA256 under a secret key, so equal ids still match each other but cannot be
/// recovered by hashing guesses without the key. Thread-safe (immutable after construction).

#include <string>
#include <string_view>

#include "base/digest.h"

namespace streamflow::model {

class IdHasher {
 public:
  explicit IdHasher(const std::string& key) : hmac_(key) {}
  /// 64 lower-case hex characters.
  std::string hash(std::string_view value) const;

 private:
  base::HmacSha256 hmac_;
};

}  // namespace streamflow::model

#include "base/digest.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

namespace streamflow::base {
namespace {

// The reference: OpenSSL's one-shot HMAC(), independent of HmacSha256's precomputed states.
Sha256 reference_hmac(std::string_view key, std::string_view data) {
  Sha256 out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return out;
}

TEST(Digest, KnownVectors) {
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(to_hex(reference_hmac("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Digest, KeyedHmacMatchesOneShotForShortAndLongKeys) {
  for (std::string key : {std::string("Jefe"), std::string(131, '\xaa')}) {
    HmacSha256 h(key);
    for (const std::string& data : std::vector<std::string>{
             "", "405-88-3636", "what do ya want for nothing?", std::string(1000, 'x')}) {
      EXPECT_EQ(to_hex(h.mac(data)), to_hex(reference_hmac(key, data)))
          << key.size() << " " << data.size();
    }
  }
  // RFC 4231 test case 6: a key longer than the block.
  EXPECT_EQ(to_hex(HmacSha256(std::string(131, '\xaa'))
                       .mac("Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

}  // namespace
}  // namespace streamflow::base

#include "base/digest.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace streamflow::base {
namespace {

TEST(Digest, KnownVectors) {
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Digest, KeyedHmacMatchesOneShotForShortAndLongKeys) {
  for (std::string key : {std::string("Jefe"), std::string(131, '\xaa')}) {
    HmacSha256 h(key);
    for (const std::string& data : std::vector<std::string>{
             "", "405-88-3636", "what do ya want for nothing?", std::string(1000, 'x')}) {
      EXPECT_EQ(to_hex(h.mac(data)), to_hex(hmac_sha256(key, data)))
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

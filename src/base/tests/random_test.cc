#include "base/random.h"

#include <gtest/gtest.h>

namespace streamflow::base {
namespace {

TEST(Base64Url, MatchesKnownVectors) {
  EXPECT_EQ(base64url({}), "");
  EXPECT_EQ(base64url({'f'}), "Zg");
  EXPECT_EQ(base64url({'f', 'o'}), "Zm8");
  EXPECT_EQ(base64url({'f', 'o', 'o'}), "Zm9v");
  EXPECT_EQ(base64url({0xfb, 0xff}), "-_8");
}

TEST(RandomToken, HasTheLengthAndAlphabetAndVaries) {
  auto a = random_token(24);
  auto b = random_token(24);
  EXPECT_EQ(a.size(), 24u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            std::string::npos);
  EXPECT_EQ(base64url(random_bytes(16)).size(), 22u);  // a Kafka cluster id
}

}  // namespace
}  // namespace streamflow::base

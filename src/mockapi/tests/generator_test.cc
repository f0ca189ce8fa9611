#include "mockapi/generator.h"

#include <gtest/gtest.h>

#include <set>

#include "mockapi/nat_data.h"
#include "model/decode.h"

namespace streamflow::mockapi {
namespace {

const model::IdHasher kHasher("mock-test");

Query query(const std::multimap<std::string, std::string>& params) {
  auto q = Query::from_params(params);
  EXPECT_TRUE(q.ok());
  return *q;
}

TEST(Generator, DeterministicForSeedAndPage) {
  auto a = generate(query({{"results", "50"}, {"seed", "abc"}, {"page", "2"}}));
  auto b = generate(query({{"results", "50"}, {"seed", "abc"}, {"page", "2"}}));
  auto c = generate(query({{"results", "50"}, {"seed", "abc"}, {"page", "3"}}));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Generator, EveryRecordIsValidForTheRealDecoder) {
  auto body = generate(query({{"results", "5000"}, {"seed", "valid"}}));
  auto batch = model::decode_response(body, kHasher);
  ASSERT_TRUE(batch.ok()) << batch.error().describe();
  EXPECT_EQ(batch->records, 5000u);
  EXPECT_EQ(batch->users.size(), 5000u);
  for (const auto& r : batch->rejects) ADD_FAILURE() << r.reason;
  EXPECT_EQ(batch->api_version, "1.4");
  EXPECT_EQ(batch->seed, "valid");
}

TEST(Generator, ServesEveryNationalityInItsScripts) {
  std::set<std::string> seen;
  auto body = generate(query({{"results", "3000"}, {"seed", "nats"}}));
  auto batch = model::decode_response(body, kHasher);
  ASSERT_TRUE(batch.ok());
  bool persian = false, cyrillic = false;
  for (const auto& u : batch->users) {
    seen.insert(u.nat.value_or(""));
    if (u.nat == "IR" && static_cast<unsigned char>(u.first_name.value_or(" ")[0]) == 0xD9)
      persian = true;
    if (u.nat == "UA" && static_cast<unsigned char>(u.last_name.value_or(" ")[0]) == 0xD0)
      cyrillic = true;
  }
  EXPECT_EQ(seen.size(), nationalities().size());
  EXPECT_TRUE(persian);
  EXPECT_TRUE(cyrillic);
}

TEST(Generator, ReproducesTheRealApiTraps) {
  auto body = generate(query({{"results", "2000"}, {"seed", "traps"}, {"nat", "us,ir,no"}}));
  EXPECT_NE(body.find("\"postcode\":\""), std::string::npos);   // string postcodes
  EXPECT_NE(body.find("\"postcode\":1"), std::string::npos);    // numeric postcodes
  EXPECT_NE(body.find("\"value\":null"), std::string::npos);    // Iran: null id.value
  EXPECT_NE(body.find("\"latitude\":\""), std::string::npos);   // coordinates as strings
  EXPECT_NE(body.find("\"postcode\":\"0"), std::string::npos);  // Norway: leading zero kept
  EXPECT_NE(body.find("\"password\":"), std::string::npos);     // the source has credentials
}

TEST(Generator, HonoursNatGenderIncExcAndNoinfo) {
  auto batch = model::decode_response(
      generate(query({{"results", "200"}, {"nat", "DE,fr"}, {"gender", "female"}})), kHasher);
  ASSERT_TRUE(batch.ok());
  for (const auto& u : batch->users) {
    EXPECT_TRUE(u.nat == "DE" || u.nat == "FR") << u.nat.value_or("null");
    EXPECT_EQ(u.gender, "female");
  }
  auto only = generate(query({{"results", "3"}, {"inc", "name,login"}, {"noinfo", ""}}));
  EXPECT_EQ(only.find("\"email\""), std::string::npos);
  EXPECT_EQ(only.find("\"info\""), std::string::npos);
  EXPECT_NE(only.find("\"login\""), std::string::npos);
  auto without = generate(query({{"results", "3"}, {"exc", "login"}}));
  EXPECT_EQ(without.find("\"login\""), std::string::npos);
  EXPECT_FALSE(Query::from_params({{"nat", "xx"}}).ok());
}

TEST(Generator, ResultsOutOfRangeBecomeOneAsUpstream) {
  EXPECT_EQ(query({{"results", "5001"}}).results, 1);
  EXPECT_EQ(query({{"results", "abc"}}).results, 1);
  EXPECT_EQ(query({{"results", "5000"}}).results, 5000);
}

TEST(Generator, Version12ShapeDecodes) {
  auto q = query({{"results", "500"}, {"seed", "old"}});
  q.version = "1.2";
  auto body = generate(q);
  EXPECT_NE(body.find("\"street\":\""), std::string::npos);
  EXPECT_EQ(body.find("\"country\":"), std::string::npos);
  auto batch = model::decode_response(body, kHasher);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->users.size(), 500u);
  EXPECT_EQ(batch->api_version, "1.2");
  for (const auto& u : batch->users) {
    ASSERT_FALSE(u.street_number.has_value());  // a string street is kept whole as its name
    ASSERT_TRUE(u.street_name.has_value());
    ASSERT_FALSE(u.country.has_value());
    ASSERT_TRUE(u.dob && u.dob->size() == 20) << u.dob.value_or("null");  // no milliseconds
  }
}

TEST(Generator, BadRecordsAreRejectedWithAReasonAndTheSameOnARepeat) {
  auto q = query({{"results", "400"}, {"seed", "bad"}});
  q.bad_record_rate = 0.25;
  auto a = model::decode_response(generate(q), kHasher);
  auto b = model::decode_response(generate(q), kHasher);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_GT(a->rejects.size(), 50u);
  EXPECT_LT(a->rejects.size(), 150u);
  EXPECT_EQ(a->users.size() + a->rejects.size(), 400u);
  ASSERT_EQ(a->rejects.size(), b->rejects.size());
  for (std::size_t i = 0; i < a->rejects.size(); ++i) {
    EXPECT_EQ(a->rejects[i].index, b->rejects[i].index);
    EXPECT_FALSE(a->rejects[i].reason.empty());
  }
}

}  // namespace
}  // namespace streamflow::mockapi

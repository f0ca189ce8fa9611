#include "serve/params.h"

#include <gtest/gtest.h>

namespace streamflow::serve {
namespace {

TEST(Params, UuidIsValidatedAndLowerCased) {
  auto ok = parse_uuid("id", "A7C2E1F0-1234-4ABC-8DEF-0123456789AB");
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, "a7c2e1f0-1234-4abc-8def-0123456789ab");
  for (const char* bad : {"", "nope", "a7c2e1f0x1234-4abc-8def-0123456789ab",
                          "a7c2e1f0-1234-4abc-8def-0123456789ag", "' OR 1=1 --"}) {
    auto r = parse_uuid("id", bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, base::Errc::invalid_argument);
    EXPECT_EQ(r.error().context, "id");
  }
}

TEST(Params, CountryIsTwoLetters) {
  EXPECT_EQ(*parse_country("country", "no"), "NO");
  EXPECT_FALSE(parse_country("country", "NOR"));
  EXPECT_FALSE(parse_country("country", "1A"));
  EXPECT_EQ(parse_country("country", "x").error().context, "country");
}

TEST(Params, IntegersAreBoundedAndNamed) {
  Query q = {{"limit", "20"}, {"big", "100000"}, {"word", "ten"}, {"neg", "-1"}};
  EXPECT_EQ(*int_param(q, "limit", 10, 1, 300), 20);
  EXPECT_EQ(*int_param(q, "absent", 10, 1, 300), 10);
  auto big = int_param(q, "big", 10, 1, 300);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().context, "big");
  EXPECT_NE(big.error().message.find("between 1 and 300"), std::string::npos);
  EXPECT_FALSE(int_param(q, "word", 10, 1, 300));
  EXPECT_FALSE(int_param(q, "neg", 10, 0, 300));
}

TEST(Params, TimesAcceptIsoAndEpochMillis) {
  const std::int64_t t = 1795651200000;  // 2026-11-26T00:00:00Z
  EXPECT_EQ(*time_param({{"t", "2026-11-26T00:00:00Z"}}, "t", 0), t);
  EXPECT_EQ(*time_param({{"t", "2026-11-26T00:00"}}, "t", 0), t);
  EXPECT_EQ(*time_param({{"t", "2026-11-26T00:01:02.5Z"}}, "t", 0), t + 62500);
  EXPECT_EQ(*time_param({{"t", std::to_string(t)}}, "t", 0), t);
  EXPECT_EQ(*time_param({}, "t", 42), 42);
  for (const char* bad :
       {"yesterday", "2026-13-01T00:00", "2026-02-30T00:00", "2026-11-26T25:00", "2026-11-26"}) {
    auto r = time_param({{"from", bad}}, "from", 0);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().context, "from");
  }
  EXPECT_EQ(iso_millis(t + 62500), "2026-11-26T00:01:02.500Z");
  EXPECT_EQ(utc_day(t - 1), "2026-11-25");
}

TEST(Params, DimensionAndPageTokens) {
  EXPECT_EQ(*dimension_param({{"by", "gender"}}, "by", Dimension::country), Dimension::gender);
  EXPECT_EQ(*dimension_param({}, "by", Dimension::age_band), Dimension::age_band);
  EXPECT_EQ(dimension_param({{"by", "planet"}}, "by", Dimension::country).error().context, "by");
  const std::string raw("\x00\x01\xfe\xff state", 10);
  EXPECT_EQ(*hex_decode("page_token", hex_encode(raw)), raw);
  EXPECT_FALSE(hex_decode("page_token", "abc"));
  EXPECT_FALSE(hex_decode("page_token", "zz"));
}

}  // namespace
}  // namespace streamflow::serve

#include "model/text.h"

#include <gtest/gtest.h>

namespace streamflow::model {
namespace {

TEST(NormaliseText, TrimsSpacesAndBomsButKeepsInnerJoiners) {
  EXPECT_EQ(normalise_text("  Jennie ").value, "Jennie");
  EXPECT_EQ(normalise_text("\xEF\xBB\xBFNichols").value, "Nichols");  // BOM
  EXPECT_EQ(normalise_text("Nic\xEF\xBB\xBFhols").value, "Nichols");  // stray BOM inside
  EXPECT_EQ(normalise_text("Kyiv\xC2\xA0").value, "Kyiv");            // NBSP
  EXPECT_EQ(normalise_text("\xE2\x80\x8D"
                           "abc")
                .value,
            "abc");  // ZWJ at an edge
  const std::string zwnj_inside =
      "\xD9\x85\xD8\xAD\xD9\x85\xD8\xAF\xE2\x80\x8C\xD8\xB1\xD8\xB6\xD8\xA7";
  EXPECT_EQ(normalise_text(zwnj_inside).value, zwnj_inside);                // Persian ZWNJ kept
  EXPECT_EQ(normalise_text("Ol\xD0\xB5ksandr").value, "Ol\xD0\xB5ksandr");  // mixed script kept
  EXPECT_FALSE(normalise_text("ok").problem.has_value());
}

TEST(NormaliseText, RefusesControlCharactersAndBadUtf8) {
  EXPECT_EQ(*normalise_text("a\x07"
                            "b")
                 .problem,
            "contains control character U+0007");
  EXPECT_EQ(*normalise_text("a\nb").problem, "contains control character U+000A");
  EXPECT_EQ(*normalise_text("a\xC2\x85"
                            "b")
                 .problem,
            "contains control character U+0085");
  EXPECT_EQ(*normalise_text("a\xC3").problem, "invalid UTF-8");
  EXPECT_EQ(*normalise_text("\xC0\xAF").problem, "invalid UTF-8");  // overlong '/'
}

TEST(Formats, Uuid) {
  EXPECT_TRUE(is_uuid("7a0eed16-9430-4d68-901f-c0d4c1c3bf00"));
  EXPECT_TRUE(is_uuid("7A0EED16-9430-4D68-901F-C0D4C1C3BF00"));
  EXPECT_FALSE(is_uuid("7a0eed1694304d68901fc0d4c1c3bf00"));
  EXPECT_FALSE(is_uuid("7a0eed16-9430-4d68-901f-c0d4c1c3bf0g"));
}

TEST(Formats, Timestamp) {
  EXPECT_TRUE(is_timestamp("1992-03-08T15:13:16.688Z"));
  EXPECT_TRUE(is_timestamp("1985-06-25T09:12:48Z"));
  EXPECT_TRUE(is_timestamp("1983-07-14 07:29:45"));
  EXPECT_TRUE(is_timestamp("2000-02-29T00:00:00+05:45"));
  EXPECT_FALSE(is_timestamp("1900-02-29T00:00:00Z"));
  EXPECT_FALSE(is_timestamp("0000-01-01T00:00:00Z"));
  EXPECT_FALSE(is_timestamp("1992-13-08T15:13:16Z"));
  EXPECT_FALSE(is_timestamp("1992-03-08"));
  EXPECT_FALSE(is_timestamp("1992-03-08T15:13:16.Z"));
  EXPECT_FALSE(is_timestamp("1992-03-08T15:13:16+25:00"));
}

TEST(Formats, TimezoneOffsetsAsServed) {
  for (const char* ok : {"0:00", "+5:45", "-3:30", "+10:00", "-12:00", "+14:00"})
    EXPECT_TRUE(is_tz_offset(ok)) << ok;
  for (const char* bad : {"", "5", "+5:4", "+15:00", "+5:60", "UTC", "+005:00"})
    EXPECT_FALSE(is_tz_offset(bad)) << bad;
}

TEST(Formats, Coordinates) {
  EXPECT_TRUE(is_coordinate("-69.8246", 90));
  EXPECT_TRUE(is_coordinate("134.8719", 180));
  EXPECT_TRUE(is_coordinate("+1.5", 90));
  EXPECT_FALSE(is_coordinate("134.8719", 90));
  EXPECT_FALSE(is_coordinate("1e3", 180));
  EXPECT_FALSE(is_coordinate("nan", 180));
  EXPECT_FALSE(is_coordinate("", 180));
}

TEST(Formats, Email) {
  EXPECT_TRUE(is_email("jennie.nichols@example.com"));
  EXPECT_FALSE(is_email("jennie.nichols.example.com"));
  EXPECT_FALSE(is_email("a@b@example.com"));
  EXPECT_FALSE(is_email("a b@example.com"));
  EXPECT_FALSE(is_email("@example.com"));
}

}  // namespace
}  // namespace streamflow::model

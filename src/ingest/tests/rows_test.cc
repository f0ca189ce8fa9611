#include "ingest/rows.h"

#include <gtest/gtest.h>

namespace streamflow::ingest {
namespace {

model::User user() {
  model::User u;
  u.uuid = "7a0eed16-9430-4d68-901f-c0d4c1c3bf00";
  u.gender = "female";
  u.first_name = "Jen\tnie";
  u.last_name = "Nichols";
  u.street_number = 8929;
  u.postcode = "01234";
  u.email = "jennie.nichols@example.com";
  u.dob = "1992-03-08T15:13:16.688Z";
  u.nat = "US";
  return u;
}

TEST(Rows, UserRowHasEveryColumnEscapedAndNullsAsBackslashN) {
  std::string out;
  append_user_row(out, user(), "b-1");
  ASSERT_EQ(out.back(), '\n');
  const std::string line = out.substr(0, out.size() - 1);
  std::size_t fields = 1;
  for (char c : line) fields += (c == '\t');
  std::size_t columns = 1;
  for (const char* p = kUserColumns; *p; ++p) columns += (*p == ',');
  EXPECT_EQ(fields, columns);
  EXPECT_NE(line.find("Jen\\tnie"), std::string::npos);
  EXPECT_NE(line.find("\t01234\t"), std::string::npos);  // postcode stays text
  EXPECT_NE(line.find("\t8929\t"), std::string::npos);
  EXPECT_NE(line.find("\t\\N\t"), std::string::npos);
  EXPECT_EQ(line.substr(line.size() - 4), "\tb-1");
}

TEST(Rows, RejectRow) {
  model::Reject r{3, "email: missing", R"({"a":"x\ty"})", std::nullopt};
  std::string out;
  append_reject_row(out, r, "b-1", "http://127.0.0.1:8787/api/");
  // The payload holds a JSON escape (backslash, t): COPY text format doubles the backslash.
  EXPECT_EQ(out, "b-1\thttp://127.0.0.1:8787/api/\t3\t\\N\temail: missing\t{\"a\":\"x\\\\ty\"}\n");
}

TEST(DerivedUuid, StableAndDistinct) {
  auto a = derived_uuid("http://x/api/|seed=s|page=1|results=5000");
  EXPECT_EQ(a, derived_uuid("http://x/api/|seed=s|page=1|results=5000"));
  EXPECT_NE(a, derived_uuid("http://x/api/|seed=s|page=2|results=5000"));
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '8');
  EXPECT_TRUE(a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b');
}

TEST(Backoff, GrowsExponentiallyWithJitterUpToTheCap) {
  using std::chrono::milliseconds;
  EXPECT_EQ(backoff_delay(0, std::nullopt, 0.0), milliseconds(125));
  EXPECT_EQ(backoff_delay(0, std::nullopt, 0.999).count(), 249);
  EXPECT_EQ(backoff_delay(3, std::nullopt, 0.0), milliseconds(1000));
  EXPECT_EQ(backoff_delay(30, std::nullopt, 0.0), milliseconds(5000));
  EXPECT_LE(backoff_delay(30, std::nullopt, 0.999), milliseconds(10000));
}

TEST(Backoff, RetryAfterWins) {
  EXPECT_EQ(backoff_delay(0, 2, 0.0), std::chrono::milliseconds(2000));
  EXPECT_EQ(backoff_delay(5, 0, 0.0), std::chrono::milliseconds(0));
  EXPECT_EQ(backoff_delay(0, 100000, 0.0), std::chrono::milliseconds(300000));
}

}  // namespace
}  // namespace streamflow::ingest

#include "base/result.h"

#include <gtest/gtest.h>

#include <set>

namespace streamflow::base {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0)
    return make_error(Errc::invalid_argument, "must be positive", "value=" + std::to_string(v));
  return v;
}

TEST(Result, CarriesValueOrError) {
  auto good = parse_positive(3);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::invalid_argument);
  EXPECT_EQ(bad.error().describe(), "must be positive (value=-1)");
}

TEST(Result, VoidResult) {
  Result<void> ok;
  EXPECT_TRUE(ok.ok());
  Result<void> failed = make_error(Errc::timeout, "slow");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().describe(), "slow");
}

TEST(Result, EveryCodeHasADistinctExitStatus) {
  std::set<int> seen;
  for (Errc c : {Errc::invalid_argument, Errc::not_found, Errc::io_error, Errc::timeout,
                 Errc::unavailable, Errc::conflict, Errc::failed_precondition, Errc::data_error,
                 Errc::internal, Errc::cancelled}) {
    EXPECT_TRUE(seen.insert(exit_code(c)).second) << to_string(c);
    EXPECT_NE(exit_code(c), 0);
    EXPECT_NE(exit_code(c), 1);
    EXPECT_NE(exit_code(c), 2);
  }
}

}  // namespace
}  // namespace streamflow::base

#include "control/audit.h"

#include <gtest/gtest.h>

#include <fstream>

namespace streamflow::control {
namespace {

TEST(Audit, EntriesAreAppendedAndReadNewestFirst) {
  const auto file = std::filesystem::temp_directory_path() / "sf-audit-test" / "audit.log";
  std::filesystem::remove_all(file.parent_path());
  AuditLog log(file);
  ASSERT_TRUE(log.record({1, "pause", "c", "done", 200, "127.0.0.1", ""}));
  ASSERT_TRUE(log.record({2, "restart_task", "c/0", "refused", 401, "127.0.0.1", "no token"}));
  std::ofstream(file, std::ios::app) << "not json\n";
  ASSERT_TRUE(log.record({3, "resume", "c", "done", 200, "127.0.0.1", ""}));
  const auto all = log.recent(10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]["action"], "resume");
  EXPECT_EQ(all[1]["outcome"], "refused");
  EXPECT_EQ(all[1]["detail"], "no token");
  EXPECT_EQ(all[2]["at"], 1);
  EXPECT_EQ(log.recent(1).size(), 1u);
  // A second log on the same file (serve restarted) sees what the first wrote.
  EXPECT_EQ(AuditLog(file).recent(10).size(), 3u);
  std::filesystem::remove_all(file.parent_path());
}

TEST(Audit, AnUnwritableFileIsAnError) {
  AuditLog log("/proc/self/nope/audit.log");
  EXPECT_FALSE(log.record({1, "pause", "c", "done", 200, "", ""}));
}

}  // namespace
}  // namespace streamflow::control

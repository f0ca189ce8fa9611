#include "ops/housekeeping.h"

#include <gtest/gtest.h>

#include <fstream>

namespace streamflow::ops {
namespace {

namespace fs = std::filesystem;

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sf-hk-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path touch(const fs::path& rel) {
    auto p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "x";
    return p;
  }
  fs::path dir_;
};

TEST_F(TempDir, FilesOlderThanTheCutoffOnly) {
  auto old_file = touch("dag_id=x/run_id=1/attempt=1.log");
  auto new_file = touch("dag_id=x/run_id=2/attempt=1.log");
  const auto now = fs::file_time_type::clock::now();
  fs::last_write_time(old_file, now - std::chrono::hours(48));
  auto got = files_older_than(dir_, now - std::chrono::hours(24));
  EXPECT_EQ(got, std::vector<fs::path>{old_file});
  EXPECT_TRUE(files_older_than(dir_ / "absent", now).empty());
}

TEST_F(TempDir, StaleCheckpointFilesKeepTheNewestBatches) {
  for (int n = 0; n <= 104; ++n) {
    touch("offsets/" + std::to_string(n));
    touch("commits/" + std::to_string(n));
    touch("offsets/." + std::to_string(n) + ".crc");
  }
  touch("offsets/tmp-file");  // not a batch: never touched
  touch("metadata");
  auto got = stale_checkpoint_files(dir_, 100);
  // Newest is 104: batches 0..3 go (104 - 100 = 4 is kept).
  std::vector<fs::path> want;
  for (int n = 0; n <= 3; ++n) {
    want.push_back(dir_ / "commits" / std::to_string(n));
    want.push_back(dir_ / "offsets" / ("." + std::to_string(n) + ".crc"));
    want.push_back(dir_ / "offsets" / std::to_string(n));
  }
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

TEST_F(TempDir, AYoungCheckpointHasNothingStale) {
  for (int n = 0; n < 10; ++n) touch("offsets/" + std::to_string(n));
  EXPECT_TRUE(stale_checkpoint_files(dir_, 100).empty());
}

}  // namespace
}  // namespace streamflow::ops

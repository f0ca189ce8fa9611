#include "base/process.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "base/fs.h"

namespace streamflow::base {
namespace {

TEST(RunCommand, CapturesOutputAndExitStatus) {
  auto out = run_command({"sh", "-c", "echo hello; echo oops >&2; exit 3"});
  ASSERT_TRUE(out.ok()) << out.error().describe();
  EXPECT_EQ(out->exit_status, 3);
  EXPECT_NE(out->output.find("hello"), std::string::npos);
  EXPECT_NE(out->output.find("oops"), std::string::npos);
}

TEST(RunCommand, MissingProgramIsNotFound) {
  auto out = run_command({"streamflow-no-such-program"});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::not_found);
}

TEST(RunCommand, OverrunningProgramIsKilled) {
  RunOptions opts;
  opts.timeout = std::chrono::milliseconds(300);
  auto out = run_command({"sleep", "30"}, opts);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::timeout);
}

TEST(Processes, SeesItselfAndNotAGhost) {
  EXPECT_TRUE(pid_alive(getpid()));
  EXPECT_GT(process_rss_bytes(getpid()), 0u);
  EXPECT_FALSE(pid_alive(-1));
}

TEST(TailLines, KeepsTheLastLines) {
  auto path = std::filesystem::temp_directory_path() / ("sf-tail-" + std::to_string(getpid()));
  ASSERT_TRUE(write_file(path, "a\nb\nc\nd\n").ok());
  EXPECT_EQ(tail_lines(path, 2), "c\nd\n");
  EXPECT_EQ(tail_lines(path, 10), "a\nb\nc\nd\n");
  EXPECT_EQ(tail_lines(path / "missing", 2), "");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace streamflow::base

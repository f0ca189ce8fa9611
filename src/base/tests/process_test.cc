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

TEST(ProcStat, ParsesACommandWithSpacesAndParentheses) {
  const auto st = parse_proc_stat(
      "4242 (java (spark) x) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 3 4 20 0 81 0 "
      "12345 6000000000 131072 18446744073709551615");
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->pid, 4242);
  EXPECT_EQ(st->ppid, 17);
  EXPECT_EQ(st->cpu_ticks, 307u);  // utime + stime, and the reaped children's cutime + cstime
  EXPECT_EQ(st->rss_pages, 131072u);
  EXPECT_FALSE(parse_proc_stat("garbage").has_value());
  EXPECT_FALSE(parse_proc_stat("12 (short) S 1 2").has_value());
}

TEST(ProcStat, TreeUsageSumsTheDescendantsOnly) {
  const std::vector<ProcStat> all = {
      {1, 0, 1000, 10}, {10, 1, 100, 1}, {11, 10, 200, 2}, {12, 11, 300, 4}, {20, 1, 400, 8}};
  const auto u = tree_usage(all, 10);
  EXPECT_EQ(u.processes, 3);
  EXPECT_EQ(u.rss_bytes, 7u * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)));
  EXPECT_DOUBLE_EQ(u.cpu_seconds, 600.0 / static_cast<double>(sysconf(_SC_CLK_TCK)));
  EXPECT_EQ(tree_usage(all, 99).processes, 0);
  const auto self = tree_usage(read_proc_stats(), getpid());
  EXPECT_GE(self.processes, 1);
  EXPECT_GT(self.rss_bytes, 0u);
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

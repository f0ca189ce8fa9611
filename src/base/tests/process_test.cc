#include "base/process.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

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

TEST(Processes, ProportionalSetSizeCountsASharedPageOnce) {
  // 64 MB touched, then shared with a forked child that only waits: each process's RSS
  // counts the whole of it, their PSS half each.
  constexpr std::size_t kBytes = 64u << 20;
  std::vector<char> shared(kBytes);
  std::memset(shared.data(), 1, kBytes);
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(go[1]);
    char c;
    (void)!read(go[0], &c, 1);
    _exit(0);
  }
  close(go[0]);
  const auto rss = process_rss_bytes(getpid()) + process_rss_bytes(child);
  const auto pss = process_pss_bytes(getpid()) + process_pss_bytes(child);
  const auto tree = tree_pss_bytes(read_proc_stats(), getpid());
  close(go[1]);
  waitpid(child, nullptr, 0);
  EXPECT_GE(rss, 2 * kBytes);
  EXPECT_GE(pss, kBytes);
  EXPECT_LT(pss, rss - kBytes / 2);
  EXPECT_GE(tree, kBytes);  // the child is in the tree
  EXPECT_EQ(process_pss_bytes(-1), 0u);
  EXPECT_EQ(shared[kBytes - 1], 1);
}

TEST(Processes, ANicenessSetBeforeAThreadStartsIsTheThreads) {
  // In a child: the test runner's own priority stays as it was.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int want = std::min(getpriority(PRIO_PROCESS, 0) + 3, 19);
    if (!set_niceness(want)) _exit(2);
    int in_thread = -100;
    std::thread([&] { in_thread = getpriority(PRIO_PROCESS, 0); }).join();
    _exit(getpriority(PRIO_PROCESS, 0) == want && in_thread == want ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(Processes, ARaisedPriorityWithoutTheRightIsRefusedWithWhatItNeeds) {
  if (geteuid() == 0) GTEST_SKIP() << "root may raise its priority";
  rlimit nice_limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NICE, &nice_limit), 0);
  const int now = getpriority(PRIO_PROCESS, 0);
  if (nice_limit.rlim_cur == RLIM_INFINITY || 20 - static_cast<int>(nice_limit.rlim_cur) < now)
    GTEST_SKIP() << "RLIMIT_NICE allows a higher priority here";
  const auto r = set_niceness(now - 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::failed_precondition);
  EXPECT_NE(r.error().message.find("CAP_SYS_NICE"), std::string::npos) << r.error().message;
  EXPECT_EQ(getpriority(PRIO_PROCESS, 0), now);
}

TEST(Processes, RealTimeIsTheThreadsButNotTheProgramsItStarts) {
  // In a child: the test runner's own policy stays as it was.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (!set_realtime(true)) _exit(3);  // not allowed here: told apart below
    bool in_thread = false;
    std::thread([&] { in_thread = is_realtime(); }).join();
    // A program it starts runs under the normal policy (its /proc stat's field 41 is 0).
    auto out = run_command({"sh", "-c", "cut -d' ' -f41 /proc/$$/stat"});
    const bool child_normal = out && out->exit_status == 0 && out->output == "0\n";
    const bool left = set_realtime(false).ok() && !is_realtime();
    _exit(is_realtime() || !in_thread || !child_normal || !left ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 3) GTEST_SKIP() << "real time is not allowed here";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(Processes, RealTimeWithoutTheRightIsRefusedWithWhatItNeeds) {
  rlimit rt_limit{};
  ASSERT_EQ(getrlimit(RLIMIT_RTPRIO, &rt_limit), 0);
  if (geteuid() == 0 || rt_limit.rlim_cur >= 1) GTEST_SKIP() << "real time is allowed here";
  const auto r = set_realtime(true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::failed_precondition);
  EXPECT_NE(r.error().message.find("CAP_SYS_NICE"), std::string::npos) << r.error().message;
  EXPECT_FALSE(is_realtime());
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

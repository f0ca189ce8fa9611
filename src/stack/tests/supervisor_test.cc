#include "stack/supervisor.h"

#include <gtest/gtest.h>

namespace streamflow::stack {
namespace {

TEST(SupervisorStatus, ParsesEveryState) {
  const std::string out =
      "cassandra                        RUNNING   pid 4242, uptime 0:01:05\n"
      "connect                          STOPPED   Not started\n"
      "kafka                            EXITED    Nov 26 03:00 AM\n"
      "postgres                         FATAL     Exited too quickly (process log may have "
      "details)\n"
      "unix:///x/supervisor.sock no such file\n";
  auto st = parse_supervisor_status(out);
  ASSERT_EQ(st.size(), 4u);
  EXPECT_EQ(st["cassandra"].state, ProgramState::running);
  ASSERT_TRUE(st["cassandra"].pid.has_value());
  EXPECT_EQ(*st["cassandra"].pid, 4242);
  EXPECT_EQ(st["connect"].state, ProgramState::stopped);
  EXPECT_FALSE(st["connect"].pid.has_value());
  EXPECT_EQ(st["kafka"].state, ProgramState::exited);
  EXPECT_EQ(st["postgres"].state, ProgramState::fatal);
  EXPECT_EQ(st["postgres"].detail, "Exited too quickly (process log may have details)");
}

TEST(SupervisorStatus, EmptyWhenDaemonIsDown) {
  EXPECT_TRUE(parse_supervisor_status("unix:///x/supervisor.sock no such file\n").empty());
  EXPECT_TRUE(parse_supervisor_status("").empty());
}

}  // namespace
}  // namespace streamflow::stack

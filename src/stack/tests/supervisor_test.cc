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

TEST(SupervisorRestarts, CountsEveryExitSupervisordDidNotAskFor) {
  const std::string log =
      "2026-12-04 03:50:00,001 INFO spawned: 'kafka' with pid 100\n"
      "2026-12-04 03:50:10,002 INFO success: kafka entered RUNNING state, process has stayed up "
      "for > than 10 seconds (startsecs)\n"
      "2026-12-04 03:58:58,267 WARN exited: kafka (terminated by SIGKILL; not expected)\n"
      "2026-12-04 03:58:59,300 INFO spawned: 'kafka' with pid 200\n"
      "2026-12-04 04:00:00,000 INFO exited: spark (exit status 1; not expected)\n"
      "2026-12-04 04:00:01,000 INFO spawned: 'spark' with pid 300\n"
      "2026-12-04 04:00:01,500 INFO exited: spark (exit status 1; not expected)\n"
      "2026-12-04 04:00:01,600 INFO gave up: spark entered FATAL state, too many start retries "
      "too quickly\n"
      "2026-12-04 04:10:00,000 INFO stopped: postgres (terminated by SIGTERM)\n";
  auto h = parse_restart_history(log);
  ASSERT_EQ(h.size(), 2u);  // a stop by `down` is not a restart
  EXPECT_EQ(h["kafka"].restarts, 1);
  EXPECT_EQ(h["kafka"].last, "2026-12-04 03:58:58 terminated by SIGKILL");
  EXPECT_FALSE(h["kafka"].gave_up);
  EXPECT_EQ(h["spark"].restarts, 2);
  EXPECT_EQ(h["spark"].last, "2026-12-04 04:00:01 exit status 1");
  EXPECT_TRUE(h["spark"].gave_up);
  // `up` starts it again: no longer given up.
  h = parse_restart_history(log + "2026-12-04 04:20:00,000 INFO spawned: 'spark' with pid 400\n");
  EXPECT_FALSE(h["spark"].gave_up);
}

TEST(SupervisorStart, AsksForAStartWithoutWaiting) {
  const auto body = start_process_request("kafka<&>");
  EXPECT_NE(body.find("<methodName>supervisor.startProcess</methodName>"), std::string::npos);
  EXPECT_NE(body.find("<string>kafka&lt;&amp;&gt;</string>"), std::string::npos);
  EXPECT_NE(body.find("<boolean>0</boolean>"), std::string::npos);  // wait=false
}

}  // namespace
}  // namespace streamflow::stack

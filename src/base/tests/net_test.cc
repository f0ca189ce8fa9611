#include "base/net.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace streamflow::base {
namespace {

TEST(ProcNetTcp, FindsListenerOnPort) {
  // 0x2384 = 9092, state 0A = LISTEN, inode 4242.
  const std::string line =
      "   3: 0100007F:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
      "4242 1 0000000000000000 100 0 0 10 0";
  auto inode = parse_proc_net_tcp_listener(line, 9092);
  ASSERT_TRUE(inode.has_value());
  EXPECT_EQ(*inode, 4242u);
  EXPECT_FALSE(parse_proc_net_tcp_listener(line, 9093).has_value());
}

TEST(ProcNetTcp, AHostClashesWithItsOwnAddressAndTheWildcardOnly) {
  const std::string on_127_0_0_1 =
      "   0: 0100007F:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000  0 4242 1";
  const std::string on_wildcard =
      "   1: 00000000:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000  0 4243 1";
  EXPECT_TRUE(parse_proc_net_tcp_listener(on_127_0_0_1, 9092, "127.0.0.1").has_value());
  EXPECT_FALSE(parse_proc_net_tcp_listener(on_127_0_0_1, 9092, "127.0.0.2").has_value());
  EXPECT_TRUE(parse_proc_net_tcp_listener(on_wildcard, 9092, "127.0.0.2").has_value());
  EXPECT_TRUE(parse_proc_net_tcp_listener(on_127_0_0_1, 9092).has_value());
  // A JVM's listener (no preferIPv4Stack) shows in tcp6 as an IPv4-mapped address.
  const std::string mapped =
      "   2: 0000000000000000FFFF00000100007F:2384 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000  1000  0 4244 1";
  EXPECT_TRUE(parse_proc_net_tcp_listener(mapped, 9092, "127.0.0.1").has_value());
  EXPECT_FALSE(parse_proc_net_tcp_listener(mapped, 9092, "127.0.0.3").has_value());
  const std::string v6_wildcard =
      "   3: 00000000000000000000000000000000:2384 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000  1000  0 4245 1";
  EXPECT_TRUE(parse_proc_net_tcp_listener(v6_wildcard, 9092, "127.0.0.3").has_value());
}

TEST(ProcNetTcp, IgnoresEstablishedSockets) {
  const std::string line =
      "   3: 0100007F:2384 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 "
      "4243 1 0000000000000000 100 0 0 10 0";
  EXPECT_FALSE(parse_proc_net_tcp_listener(line, 9092).has_value());
}

TEST(PortHolder, NamesTheProcessHoldingAPort) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);

  auto holder = find_port_holder(port);
  ASSERT_TRUE(holder.has_value());
  ASSERT_TRUE(holder->pid.has_value());
  EXPECT_EQ(*holder->pid, getpid());
  EXPECT_TRUE(tcp_port_open("127.0.0.1", port, std::chrono::milliseconds(500)));

  close(fd);
  EXPECT_FALSE(find_port_holder(port).has_value());
  EXPECT_FALSE(tcp_port_open("127.0.0.1", port, std::chrono::milliseconds(500)));
}

}  // namespace
}  // namespace streamflow::base

namespace streamflow::base {
namespace {

TEST(Net, LoopbackHostsAreRecognised) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.1.2.3"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("10.0.0.5"));
  EXPECT_FALSE(is_loopback_host("::"));
}

}  // namespace
}  // namespace streamflow::base

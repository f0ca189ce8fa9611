// The C++ side of the bridge without a server: error mapping, and a refused connection coming
// back as a Result (the Rust runtime starts, the driver fails, nothing is thrown).
#include "cql/cql.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace streamflow::cql {
namespace {

TEST(BridgeError, TagSelectsTheErrorCode) {
  auto e = bridge_error("[timeout] Request execution exceeded a client timeout of 12000ms",
                        "CQL query failed", "cassandra=127.0.0.1:9042");
  EXPECT_EQ(e.code, base::Errc::timeout);
  EXPECT_EQ(e.message, "CQL query failed: Request execution exceeded a client timeout of 12000ms");
  EXPECT_EQ(e.context, "cassandra=127.0.0.1:9042");
  EXPECT_EQ(bridge_error("[invalid_argument] bad", "x", "").code, base::Errc::invalid_argument);
  EXPECT_EQ(bridge_error("[unavailable] down", "x", "").code, base::Errc::unavailable);
  auto untagged = bridge_error("something odd", "x", "");
  EXPECT_EQ(untagged.code, base::Errc::internal);
  EXPECT_EQ(untagged.message, "x: something odd");
}

/// A loopback port nobody listens on: bound, then closed.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(Session, ConnectToAClosedPortIsAnErrorNotAnException) {
  ConnectOptions options;
  options.contact_point = "127.0.0.1:" + std::to_string(closed_port());
  options.connect_timeout_ms = 1000;
  options.request_timeout_ms = 2000;
  auto session = Session::connect(options);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().code, base::Errc::unavailable) << session.error().describe();
  EXPECT_NE(session.error().message.find("cannot connect to Cassandra"), std::string::npos);
  EXPECT_EQ(session.error().context, "cassandra=" + options.contact_point);
}

TEST(Session, AContactPointThatIsNotHostPortIsInvalid) {
  ConnectOptions options;
  options.contact_point = "not a host:port";
  options.connect_timeout_ms = 500;
  options.request_timeout_ms = 500;
  auto session = Session::connect(options);
  ASSERT_FALSE(session.ok());
  EXPECT_NE(session.error().code, base::Errc::internal) << session.error().describe();
}

}  // namespace
}  // namespace streamflow::cql

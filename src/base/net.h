#pragma once
/// Small socket helpers: is a TCP port answering, is it free, and who holds it.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

namespace streamflow::base {

/// Whether `host` names this machine's loopback (localhost, ::1, 127.0.0.0/8): where our
/// servers may listen without an access token.
bool is_loopback_host(const std::string& host);

/// True when a TCP connection to host:port succeeds within the timeout.
bool tcp_port_open(const std::string& host, int port, std::chrono::milliseconds timeout);

/// Who listens on a TCP port (any local address), as far as /proc lets us see.
struct PortHolder {
  std::optional<pid_t> pid;      ///< unknown when the socket belongs to another user we cannot see
  std::string command;           ///< the holder's command line, if known
  std::string describe() const;  ///< "pid 123 (java -cp ...)" or "an unknown process"
};

/// The listener on `port` (any local address), or nullopt when nothing listens there.
/// /proc/net/tcp{,6} lists every listening socket of this network namespace, whoever owns it;
/// a trial bind() is not used because it also fails on sockets left in TIME_WAIT.
std::optional<PortHolder> find_port_holder(int port);

/// Parses the hex port and state columns of one /proc/net/tcp{,6} line. Returns the socket
/// inode when the line is a LISTEN socket on `port`. Exposed for unit tests.
std::optional<unsigned long> parse_proc_net_tcp_listener(const std::string& line, int port);

}  // namespace streamflow::base

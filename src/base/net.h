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

/// Sends `request` over a fresh TCP connection and reads the reply until the peer closes it
/// (ZooKeeper's four-letter words); nullopt when it cannot connect or the timeout passes.
std::optional<std::string> tcp_exchange(const std::string& host, int port,
                                        const std::string& request,
                                        std::chrono::milliseconds timeout);

/// Who listens on a TCP port (any local address), as far as /proc lets us see.
struct PortHolder {
  std::optional<pid_t> pid;      ///< unknown when the socket belongs to another user we cannot see
  std::string command;           ///< the holder's command line, if known
  std::string describe() const;  ///< "pid 123 (java -cp ...)" or "an unknown process"
};

/// The listener on `port`, or nullopt when nothing listens there: on any local address, or,
/// given an IPv4 `host`, on that address or the wildcard (the ones a bind to host:port clashes
/// with: nodes of a cluster on one machine share ports on addresses of their own).
/// /proc/net/tcp{,6} lists every listening socket of this network namespace, whoever owns it;
/// a trial bind() is not used because it also fails on sockets left in TIME_WAIT.
std::optional<PortHolder> find_port_holder(int port, const std::string& host = "");

/// Parses the hex address, port and state columns of one /proc/net/tcp{,6} line. Returns the
/// socket inode when the line is a LISTEN socket on `port` (and, given an IPv4 `host`, on that
/// address or the wildcard). Exposed for unit tests.
std::optional<unsigned long> parse_proc_net_tcp_listener(const std::string& line, int port,
                                                         const std::string& host = "");

}  // namespace streamflow::base

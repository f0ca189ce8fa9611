#include "base/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/process.h"

namespace streamflow::base {

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

bool tcp_port_open(const std::string& host, int port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return false;
  bool open = false;
  for (addrinfo* ai = res; ai != nullptr && !open; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc == 0) {
      open = true;
    } else if (errno == EINPROGRESS) {
      pollfd pfd{fd, POLLOUT, 0};
      if (poll(&pfd, 1, static_cast<int>(timeout.count())) == 1) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        open = (err == 0);
      }
    }
    close(fd);
  }
  freeaddrinfo(res);
  return open;
}

std::optional<std::string> tcp_exchange(const std::string& host, int port,
                                        const std::string& request,
                                        std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res)
    return std::nullopt;
  const int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(res);
    return std::nullopt;
  }
  timeval tv{};
  tv.tv_sec = static_cast<long>(timeout.count() / 1000);
  tv.tv_usec = static_cast<long>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  const bool connected = connect(fd, res->ai_addr, res->ai_addrlen) == 0;
  freeaddrinfo(res);
  std::optional<std::string> reply;
  if (connected && send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
                       static_cast<ssize_t>(request.size())) {
    std::string text;
    char buf[4096];
    ssize_t n = 0;
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) text.append(buf, static_cast<std::size_t>(n));
    if (n == 0) reply = std::move(text);  // closed by the peer: the whole reply
  }
  close(fd);
  return reply;
}

std::string PortHolder::describe() const {
  if (!pid) return "an unknown process (run `ss -ltnp` as root to see it)";
  std::string cmd = command.size() > 120 ? command.substr(0, 117) + "..." : command;
  return "pid " + std::to_string(*pid) + (cmd.empty() ? "" : " (" + cmd + ")");
}

std::optional<unsigned long> parse_proc_net_tcp_listener(const std::string& line, int port,
                                                         const std::string& host) {
  // "  0: 0100007F:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000  0 12345 ..."
  std::istringstream in(line);
  std::string slot, local, remote, state, queues, timer, retrans, uid, timeout;
  unsigned long inode = 0;
  if (!(in >> slot >> local >> remote >> state >> queues >> timer >> retrans >> uid >> timeout >>
        inode)) {
    return std::nullopt;
  }
  if (state != "0A") return std::nullopt;  // TCP_LISTEN
  auto colon = local.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  int local_port = static_cast<int>(std::stoul(local.substr(colon + 1), nullptr, 16));
  if (local_port != port) return std::nullopt;
  if (host.empty()) return inode;
  const auto address = local.substr(0, colon);
  if (address.find_first_not_of('0') == std::string::npos) return inode;  // the wildcard
  in_addr wanted{};
  if (inet_pton(AF_INET, host.c_str(), &wanted) != 1) return inode;  // a name: any address
  // /proc/net/tcp prints the address as the hex of its in-memory 32-bit value.
  char hex[9];
  std::snprintf(hex, sizeof(hex), "%08X", static_cast<unsigned>(wanted.s_addr));
  if (address == hex) return inode;
  // tcp6: a JVM's IPv4 socket is an IPv4-mapped address (::ffff:a.b.c.d), printed as four such
  // words: 0000000000000000FFFF0000 then the IPv4 one.
  if (address.size() == 32 && address.compare(0, 24, "0000000000000000FFFF0000") == 0 &&
      address.compare(24, 8, hex) == 0) {
    return inode;
  }
  return std::nullopt;
}

namespace {

std::optional<unsigned long> listener_inode(int port, const std::string& host) {
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      if (auto inode = parse_proc_net_tcp_listener(line, port, host)) return inode;
    }
  }
  return std::nullopt;
}

std::optional<pid_t> pid_of_socket_inode(unsigned long inode) {
  const std::string wanted = "socket:[" + std::to_string(inode) + "]";
  std::error_code ec;
  for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
    const auto name = proc.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code fd_ec;
    for (const auto& fd : std::filesystem::directory_iterator(proc.path() / "fd", fd_ec)) {
      std::error_code link_ec;
      auto target = std::filesystem::read_symlink(fd.path(), link_ec);
      if (!link_ec && target.string() == wanted) return static_cast<pid_t>(std::stol(name));
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<PortHolder> find_port_holder(int port, const std::string& host) {
  if (auto inode = listener_inode(port, host)) {
    PortHolder holder;
    holder.pid = pid_of_socket_inode(*inode);
    if (holder.pid) holder.command = process_command_line(*holder.pid);
    return holder;
  }
  return std::nullopt;
}

}  // namespace streamflow::base

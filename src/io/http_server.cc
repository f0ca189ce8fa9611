#include "io/http_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "base/log.h"
#include "base/net.h"

namespace streamflow::io {

namespace {

using Clock = std::chrono::steady_clock;

thread_local Clock::time_point tl_ready_at{};

}  // namespace

Clock::time_point request_ready_at() { return tl_ready_at; }

ElasticPool::ElasticPool(std::size_t min_threads, std::size_t max_threads,
                         std::chrono::milliseconds idle_exit)
    : min_threads_(std::min(min_threads, std::max<std::size_t>(max_threads, 1))),
      max_threads_(std::max<std::size_t>(max_threads, 1)),
      idle_exit_(idle_exit) {}

ElasticPool::~ElasticPool() { shutdown(); }

void ElasticPool::enqueue(std::function<void()> job) {
  std::unique_lock lock(mu_);
  jobs_.push_back(std::move(job));
  // Every queued job has a waiting (or starting) worker, or one is started for it.
  if (jobs_.size() <= idle_ + starting_ || threads_ >= max_threads_) {
    wake_.notify_one();
    return;
  }
  if (start_worker()) return;
  if (threads_ > 0) return;  // a worker that finishes a job tries again to start one
  auto run = std::move(jobs_.front());
  jobs_.pop_front();
  lock.unlock();
  run();  // no worker at all: the caller runs it rather than leave it queued for ever
}

bool ElasticPool::start_worker() {
  try {
    std::thread worker([this] { work(); });  // it waits for mu_, which the caller holds
    ++threads_;
    ++starting_;
    worker.detach();
    return true;
  } catch (const std::exception& e) {
    base::logger("http")->warn("cannot start an HTTP worker ({} running): {}", threads_, e.what());
    return false;
  }
}

void ElasticPool::work() {
  ::pthread_setname_np(::pthread_self(), "http-worker");  // for top -H, perf and schedstat
  std::unique_lock lock(mu_);
  --starting_;
  for (;;) {
    if (jobs_.empty()) {
      if (stopping_) break;
      ++idle_;
      const bool woke =
          wake_.wait_for(lock, idle_exit_, [this] { return !jobs_.empty() || stopping_; });
      --idle_;
      if (!woke && threads_ > min_threads_) break;
      continue;
    }
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    // A job left queued with no worker waiting: a worker that could not be started before.
    if (jobs_.size() > idle_ + starting_ && threads_ < max_threads_) start_worker();
    lock.unlock();
    job();
    job = nullptr;  // what it holds is released before the worker counts as free
    lock.lock();
  }
  --threads_;
  ended_.notify_all();  // under the lock: shutdown() cannot return before this worker lets go
}

void ElasticPool::shutdown() {
  std::unique_lock lock(mu_);
  stopping_ = true;
  wake_.notify_all();
  ended_.wait(lock, [this] { return threads_ == 0; });
  // A job queued with no worker left (enqueue could start none) still runs.
  while (!jobs_.empty()) {
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

std::size_t ElasticPool::threads() const {
  std::lock_guard lock(mu_);
  return threads_;
}

std::size_t ElasticPool::idle() const {
  std::lock_guard lock(mu_);
  return idle_;
}

namespace {

/// The address and port of `addr` (IPv4 or IPv6); `ip` may be null. False for another family.
bool ip_and_port(const sockaddr_storage& addr, std::string* ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    if (ip) ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text));
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    if (ip) ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof(text));
    port = ntohs(a->sin6_port);
  } else {
    return false;
  }
  if (ip) *ip = text;
  return true;
}

/// One request's stream over a connection's socket: reads come first from what an earlier read
/// took past the end of the last request (`pending`), then from the socket, which is read a
/// few kilobytes at a time (cpp-httplib reads a request's head a byte at a time); what is read
/// past this request stays in `pending` for the next (trimmed once, when the stream ends).
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(int fd, std::string& pending, int read_timeout_ms, int write_timeout_ms)
      : fd_(fd), pending_(pending), read_ms_(read_timeout_ms), write_ms_(write_timeout_ms) {}
  ~ConnectionStream() override { pending_.erase(0, used_); }
  ConnectionStream(const ConnectionStream&) = delete;
  ConnectionStream& operator=(const ConnectionStream&) = delete;

  bool is_readable() const override {
    return used_ < pending_.size() || wait_for(POLLIN, read_ms_);
  }
  bool is_writable() const override { return wait_for(POLLOUT, write_ms_); }

  ssize_t read(char* ptr, size_t size) override {
    if (size == 0) return 0;
    if (used_ == pending_.size()) {
      pending_.clear();
      used_ = 0;
      if (!wait_for(POLLIN, read_ms_)) return -1;
      char buf[4096];
      ssize_t n;
      do n = ::recv(fd_, buf, sizeof(buf), 0);
      while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      pending_.append(buf, static_cast<std::size_t>(n));
    }
    const auto n = std::min(size, pending_.size() - used_);
    std::memcpy(ptr, pending_.data() + used_, n);
    used_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(::getpeername, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(::getsockname, ip, port);
  }
  socket_t socket() const override { return fd_; }

 private:
  bool wait_for(short events, int timeout_ms) const {
    pollfd p{fd_, events, 0};
    int n;
    do n = ::poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    return n > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
  }

  template <typename Get>
  void address_of(Get get, std::string& ip, int& port) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (get(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) ip_and_port(addr, &ip, port);
  }

  int fd_;
  std::string& pending_;
  std::size_t used_ = 0;  ///< bytes of `pending_` this request has read
  int read_ms_;
  int write_ms_;
};

int to_ms(time_t sec, time_t usec) { return static_cast<int>(sec * 1000 + usec / 1000); }

}  // namespace

/// cpp-httplib's task queue for the accept loop: its jobs go to the server's pool, and its
/// shutdown (when the accept loop ends) shuts the server's connections down.
class KeepAliveServer::Queue final : public httplib::TaskQueue {
 public:
  explicit Queue(KeepAliveServer& server) : server_(server) {}
  /// `fn` answers a connection just accepted: the time it waits for a worker counts as its
  /// first request's wait.
  void enqueue(std::function<void()> fn) override {
    server_.pool_.enqueue([fn = std::move(fn), accepted = Clock::now()] {
      tl_ready_at = accepted;
      fn();
    });
  }
  void shutdown() override { server_.shut_down(); }

 private:
  KeepAliveServer& server_;
};

KeepAliveServer::KeepAliveServer(int threads)
    : pool_(std::min<std::size_t>(4, static_cast<std::size_t>(std::max(threads, 1))),
            static_cast<std::size_t>(std::max(threads, 1))),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (epoll_ < 0 || wake_ < 0)
    throw std::system_error(errno, std::generic_category(), "cannot create an epoll set");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_;
  ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
  new_task_queue = [this] { return new Queue(*this); };
  set_tcp_nodelay(true);
  set_keep_alive_max_count(10000);
  watcher_ = std::thread([this] { watch(); });
}

KeepAliveServer::~KeepAliveServer() {
  stop();
  shut_down();
  ::close(epoll_);
  ::close(wake_);
}

std::size_t KeepAliveServer::parked() const {
  std::lock_guard lock(mu_);
  return parked_.size();
}

std::size_t KeepAliveServer::workers() const { return pool_.threads(); }

bool KeepAliveServer::process_and_close_socket(socket_t sock) {
  Connection c;
  c.fd = sock;
  c.ready_at = tl_ready_at;  // the Queue's wrapper set it
  // A new connection has usually sent its request already: answer it on this worker.
  pollfd p{sock, POLLIN, 0};
  if (::poll(&p, 1, 0) > 0)
    serve(std::move(c));
  else
    park(std::move(c));
  return true;
}

void KeepAliveServer::serve(Connection c) {
  const int read_ms = to_ms(read_timeout_sec_, read_timeout_usec_);
  const int write_ms = to_ms(write_timeout_sec_, write_timeout_usec_);
  for (;;) {
    if (svr_sock_ == INVALID_SOCKET) break;  // stopping: what is in flight on others finishes
    const bool last = ++c.served >= keep_alive_max_count_;
    bool closed = false;
    bool answered = false;
    tl_ready_at = c.ready_at;
    {
      ConnectionStream stream(c.fd, c.pending, read_ms, write_ms);
      answered = process_request(stream, last, closed, nullptr);
    }
    c.ready_at = Clock::now();  // a pipelined next request waits from here
    if (!answered || closed || last) break;
    if (c.pending.empty()) return park(std::move(c));
    // A pipelined request is already here: answer it now.
  }
  close_connection(c.fd);
}

void KeepAliveServer::park(Connection c) {
  std::lock_guard lock(mu_);
  if (stopping_ || svr_sock_ == INVALID_SOCKET) return close_connection(c.fd);
  c.idle_until = std::chrono::steady_clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.fd = c.fd;
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
    base::logger("http")->warn("cannot wait for connection {}: {}", c.fd, std::strerror(errno));
    return close_connection(c.fd);
  }
  const int fd = c.fd;
  parked_.emplace(fd, std::move(c));
}

void KeepAliveServer::close_connection(int fd) {
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

void KeepAliveServer::watch() {
  ::pthread_setname_np(::pthread_self(), "http-epoll");
  std::vector<epoll_event> events(256);
  auto next_sweep = std::chrono::steady_clock::now();
  for (;;) {
    const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 1000);
    const auto seen = Clock::now();
    std::vector<Connection> ready;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        auto it = parked_.find(fd);
        if (it == parked_.end()) continue;  // the eventfd
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
        it->second.ready_at = seen;
        ready.push_back(std::move(it->second));
        parked_.erase(it);
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_sweep) {  // connections quiet for the keep-alive timeout are closed
        for (auto it = parked_.begin(); it != parked_.end();) {
          if (it->second.idle_until > now) {
            ++it;
            continue;
          }
          ::epoll_ctl(epoll_, EPOLL_CTL_DEL, it->first, nullptr);
          close_connection(it->first);
          it = parked_.erase(it);
        }
        next_sweep = now + std::chrono::seconds(1);
      }
    }
    for (auto& c : ready)
      pool_.enqueue([this, c = std::move(c)]() mutable { serve(std::move(c)); });
  }
}

void KeepAliveServer::shut_down() {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      for (auto& [fd, c] : parked_) {
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
        close_connection(fd);
      }
      parked_.clear();
      const std::uint64_t one = 1;
      [[maybe_unused]] const auto w = ::write(wake_, &one, sizeof(one));
    }
  }
  if (watcher_.joinable()) watcher_.join();
  pool_.shutdown();  // waits for the requests in flight; they close their connections
}

std::unique_ptr<httplib::Server> make_http_server(int threads) {
  return std::make_unique<KeepAliveServer>(threads);
}

int widen_listen_backlog(int port, int backlog) {
  int widened = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;
    }
    int listening = 0;
    socklen_t len = sizeof(listening);
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening == 0)
      continue;
    sockaddr_storage addr{};
    socklen_t addr_len = sizeof(addr);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) continue;
    int bound = -1;
    if (ip_and_port(addr, nullptr, bound) && bound == port && ::listen(fd, backlog) == 0) ++widened;
  }
  return widened;
}

base::Result<void> listen_in_background(httplib::Server& server, const std::string& host, int port,
                                        std::thread& thread) {
  if (auto holder = base::find_port_holder(port)) {
    return base::make_error(
        base::Errc::conflict,
        fmt::format("port {} is already in use by {}", port, holder->describe()),
        fmt::format("port={}", port));
  }
  if (!server.bind_to_port(host.c_str(), port)) {
    return base::make_error(base::Errc::conflict,
                            fmt::format("cannot listen on {}:{}", host, port));
  }
  if (widen_listen_backlog(port, SOMAXCONN) == 0)
    base::logger("http")->warn("the listen backlog of port {} stays at cpp-httplib's 5", port);
  thread = std::thread([&server] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return {};
}

}  // namespace streamflow::io

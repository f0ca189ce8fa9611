#include "io/http_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "base/log.h"
#include "base/net.h"

namespace streamflow::io {

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

/// cpp-httplib's task queue over an ElasticPool.
class ElasticTaskQueue final : public httplib::TaskQueue {
 public:
  explicit ElasticTaskQueue(std::size_t max_threads)
      : pool_(std::min<std::size_t>(4, max_threads), max_threads) {}
  void enqueue(std::function<void()> fn) override { pool_.enqueue(std::move(fn)); }
  void shutdown() override { pool_.shutdown(); }

 private:
  ElasticPool pool_;
};

}  // namespace

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
    if (addr.ss_family == AF_INET)
      bound = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
    else if (addr.ss_family == AF_INET6)
      bound = ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
    if (bound == port && ::listen(fd, backlog) == 0) ++widened;
  }
  return widened;
}

void tune_http_server(httplib::Server& server, int threads) {
  server.new_task_queue = [threads] {
    return new ElasticTaskQueue(static_cast<std::size_t>(std::max(threads, 1)));
  };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(10000);
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

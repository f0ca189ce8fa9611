#pragma once
/// What every HTTP server of ours (the mock API, `streamflow serve`) does the same way on
/// cpp-httplib: the settings that make it fast, and a start that refuses a taken port.

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "base/result.h"

namespace streamflow::io {

/// The workers of an HTTP server, started as jobs come, up to `max_threads`. With a fixed pool
/// and cpp-httplib's own model (a worker per open connection, for as long as it is kept
/// alive), a burst of connections beyond the pool's size waited for a worker whose connection
/// had gone quiet for the keep-alive timeout (5 s): under load a queue that did not drain.
/// Here a job gets a worker at once while fewer than `max_threads` are busy. A worker left
/// with nothing to do for `idle_exit` ends, down to `min_threads`, so the threads follow the
/// load. Jobs beyond `max_threads` wait in order, as do jobs for which no thread could be
/// started (the next worker to finish a job tries again). shutdown() runs what is queued and
/// returns when every worker has left the pool.
class ElasticPool {
 public:
  ElasticPool(std::size_t min_threads, std::size_t max_threads,
              std::chrono::milliseconds idle_exit = std::chrono::seconds(30));
  ~ElasticPool();
  ElasticPool(const ElasticPool&) = delete;
  ElasticPool& operator=(const ElasticPool&) = delete;

  void enqueue(std::function<void()> job);
  void shutdown();

  /// Workers alive now (started and not yet ended), and of those the ones waiting for a job.
  std::size_t threads() const;
  std::size_t idle() const;

 private:
  void work();
  /// Starts a worker (the caller holds mu_); false, and a warning, when no thread can be had.
  bool start_worker();

  const std::size_t min_threads_;
  const std::size_t max_threads_;
  const std::chrono::milliseconds idle_exit_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable ended_;
  std::deque<std::function<void()>> jobs_;
  std::size_t threads_ = 0;
  std::size_t idle_ = 0;      ///< workers waiting for a job
  std::size_t starting_ = 0;  ///< workers started that have not taken the lock yet
  bool stopping_ = false;
};

/// cpp-httplib's routing and handlers, with connections kept alive at no cost while they are
/// quiet. cpp-httplib itself gives each open connection a worker for as long as it is kept
/// alive, and that worker polls the socket about 90 times a second: under load, with a
/// thousand connections open, `perf` found most of serve's samples in the scheduler. Here a
/// worker answers what a connection has sent, then hands the quiet connection to one epoll
/// thread and is free; the connection gets a worker again when it has something to read. A
/// connection quiet for the keep-alive timeout (5 s) is closed, as before.
///
/// Workers come from an ElasticPool of at most `threads`; TCP_NODELAY (else every keep-alive
/// request after the first waits ~40 ms) and keep-alive for up to 10,000 requests (the default
/// ends it after 5). A response that streams (an event stream) holds its worker until it ends.
class KeepAliveServer final : public httplib::Server {
 public:
  explicit KeepAliveServer(int threads);
  ~KeepAliveServer() override;
  KeepAliveServer(const KeepAliveServer&) = delete;
  KeepAliveServer& operator=(const KeepAliveServer&) = delete;

  /// Connections waiting quietly for their next request, and the workers alive.
  std::size_t parked() const;
  std::size_t workers() const;

 private:
  struct Connection {
    int fd = -1;
    /// When its next request was seen ready to read (accepted, or woken from the epoll set).
    std::chrono::steady_clock::time_point ready_at{};
    std::size_t served = 0;  ///< requests answered on it
    std::string pending;     ///< bytes read past the last request (a pipelined next one)
    std::chrono::steady_clock::time_point idle_until{};
  };
  class Queue;

  /// Called by cpp-httplib's accept loop, on a worker, for each new connection.
  bool process_and_close_socket(socket_t sock) override;
  /// Answers what `c` has sent, then parks or closes it.
  void serve(Connection c);
  void park(Connection c);
  static void close_connection(int fd);
  void watch();  ///< the epoll thread
  /// Ends the epoll thread, closes the parked connections, waits for the workers (cpp-httplib
  /// calls it, through its task queue, when its accept loop ends).
  void shut_down();

  ElasticPool pool_;
  int epoll_ = -1;
  int wake_ = -1;  ///< an eventfd that ends the epoll thread's wait
  mutable std::mutex mu_;
  std::unordered_map<int, Connection> parked_;
  bool stopping_ = false;
  std::thread watcher_;
};

/// When the request this thread is answering was seen ready to read: accepted (a new
/// connection) or woken by the epoll thread (a parked one); for a pipelined request, when the
/// one before it was answered. The time up to its handler is its wait for a worker and for its
/// bytes. The epoch outside a KeepAliveServer's worker.
std::chrono::steady_clock::time_point request_ready_at();

/// A KeepAliveServer with at most `threads` workers.
std::unique_ptr<httplib::Server> make_http_server(int threads);

/// Sets the backlog of this process's listening sockets on `port` to `backlog`; how many it
/// found. cpp-httplib 0.11 listens with a backlog of 5: a burst of new connections beyond
/// that overflows the accept queue, and their SYNs are dropped (the kernel logs "Possible SYN
/// flooding") or answered with cookies, so clients wait 1 s, then 3 s, ... before they are
/// heard. Linux takes a second listen() on a listening socket as a new backlog.
int widen_listen_backlog(int port, int backlog);

/// Checks that nothing listens on `port` (cpp-httplib sets SO_REUSEPORT, so a bind alone would
/// share a taken port silently), binds, widens the backlog to SOMAXCONN, and serves on
/// `thread` until server.stop(). Returns once the server accepts connections; conflict when the
/// port is taken.
base::Result<void> listen_in_background(httplib::Server& server, const std::string& host, int port,
                                        std::thread& thread);

}  // namespace streamflow::io

#pragma once
/// What every HTTP server of ours (the mock API, `streamflow serve`) does the same way on
/// cpp-httplib: the settings that make it fast, and a start that refuses a taken port.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"

namespace httplib {
class Server;
}

namespace streamflow::io {

/// The workers of an HTTP server, started as connections come, up to `max_threads`. cpp-httplib
/// gives an accepted connection one worker for as long as it is kept alive. With a fixed pool,
/// a burst of connections beyond its size waits for a worker whose connection has gone quiet
/// for the keep-alive timeout (5 s), while its requests wait: under load that is a queue that
/// does not drain (every route answered in 10 s or timed out, the fast ones too). Here a
/// connection gets a worker at once while fewer than `max_threads` are open. A worker left
/// with nothing to do for `idle_exit` ends, down to `min_threads`, so the threads follow the
/// connections. Jobs beyond `max_threads` wait in order, as do jobs for which no thread could
/// be started (the next worker to finish a job tries again). shutdown() runs what is queued
/// and returns when every worker has left the pool.
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

/// Workers from an ElasticPool of at most `threads` (each open connection holds one),
/// TCP_NODELAY (else every keep-alive request after the first waits ~40 ms) and keep-alive for
/// up to 10,000 requests (the default ends it after 5).
void tune_http_server(httplib::Server& server, int threads);

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

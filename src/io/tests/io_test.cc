#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "io/connect.h"
#include "io/http.h"
#include "io/http_server.h"
#include "io/migrations.h"
#include "io/pg.h"
#include "io/registry.h"

namespace streamflow::io {
namespace {

/// Jobs that each wait until `n` of them have started (or `limit` passes): what a kept-alive
/// connection does to its worker. Counts the jobs that saw all `n` start, the most that ran at
/// once, and the jobs that finished.
struct Rendezvous {
  explicit Rendezvous(int together) : n(together) {}
  void job(std::chrono::milliseconds limit) {
    std::unique_lock lock(mu);
    peak = std::max(peak, ++running);
    ++arrived;
    cv.notify_all();
    if (cv.wait_for(lock, limit, [this] { return arrived >= n; })) ++met;
    --running;
    ++finished;
    cv.notify_all();
  }
  /// Waits until `count` jobs have finished, at most 20 s; whether they did.
  bool await_finished(int count) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(20), [&] { return finished >= count; });
  }
  int met_so_far() {
    std::lock_guard lock(mu);
    return met;
  }
  const int n;
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0, running = 0, peak = 0, met = 0, finished = 0;
};

TEST(ElasticPool, GivesEveryJobAWorkerAtOnceUpToItsMost) {
  ElasticPool pool(1, 16);
  Rendezvous r(12);
  for (int i = 0; i < 12; ++i) pool.enqueue([&r] { r.job(std::chrono::seconds(5)); });
  pool.shutdown();
  // A fixed pool of one would have run them one after the other, each waiting out its limit.
  EXPECT_EQ(r.met, 12);
  EXPECT_EQ(r.peak, 12);
  EXPECT_EQ(pool.threads(), 0u);
}

TEST(ElasticPool, QueuesJobsBeyondItsMostAndRunsThemAll) {
  ElasticPool pool(1, 3);
  Rendezvous r(3);  // the first three meet; the rest find them met
  for (int i = 0; i < 7; ++i) pool.enqueue([&r] { r.job(std::chrono::seconds(10)); });
  pool.shutdown();
  EXPECT_EQ(r.finished, 7);
  EXPECT_EQ(r.met, 7);
  EXPECT_EQ(r.peak, 3);
}

TEST(ElasticPool, WorkersWithNothingToDoEndDownToItsLeast) {
  ElasticPool pool(2, 16, std::chrono::milliseconds(50));
  Rendezvous r(8);
  for (int i = 0; i < 8; ++i) pool.enqueue([&r] { r.job(std::chrono::seconds(10)); });
  ASSERT_TRUE(r.await_finished(8));
  EXPECT_EQ(r.met_so_far(), 8);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pool.threads() > 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(pool.threads(), 2u);
  pool.shutdown();
}

TEST(ElasticPool, IdleWorkersTakeNewJobsWithoutStartingMore) {
  ElasticPool pool(2, 16, std::chrono::hours(1));  // nobody ends for idleness here
  Rendezvous first(2);
  for (int i = 0; i < 2; ++i) pool.enqueue([&first] { first.job(std::chrono::seconds(10)); });
  ASSERT_TRUE(first.await_finished(2));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pool.idle() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(pool.idle(), 2u);
  EXPECT_EQ(pool.threads(), 2u);
  // Both workers wait now; the next two jobs must wake them (with no wake-up they would wait
  // for the hour), and no third worker is started.
  Rendezvous second(2);
  for (int i = 0; i < 2; ++i) pool.enqueue([&second] { second.job(std::chrono::seconds(10)); });
  ASSERT_TRUE(second.await_finished(2));
  EXPECT_EQ(second.met_so_far(), 2);
  EXPECT_EQ(pool.threads(), 2u);
  pool.shutdown();
}

/// A loopback socket listening with `backlog` on a port of its own, never accepting.
struct Listener {
  explicit Listener(int backlog) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, backlog) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("cannot listen on loopback");
    port = ntohs(addr.sin_port);
  }
  ~Listener() { ::close(fd); }
  /// Of `n` connections opened at once, how many the kernel completes within a second.
  int completes(int n) const {
    std::vector<pollfd> fds;
    for (int i = 0; i < n; ++i) {
      const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<std::uint16_t>(port));
      ::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
      fds.push_back({c, POLLOUT, 0});
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& p : fds) p.revents = 0;
      ::poll(fds.data(), fds.size(), 50);
    }
    int done = 0;
    for (auto& p : fds) {
      int error = 0;
      socklen_t len = sizeof(error);
      ::getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &error, &len);
      if ((p.revents & POLLOUT) && error == 0) ++done;
      ::close(p.fd);
    }
    return done;
  }
  int fd = -1;
  int port = 0;
};

TEST(ListenBacklog, WidenedSoThatABurstOfConnectionsIsHeardAtOnce) {
  const Listener narrow(5);  // what cpp-httplib 0.11 listens with
  EXPECT_LE(narrow.completes(40), 10);
  const Listener widened(5);
  EXPECT_EQ(widen_listen_backlog(widened.port, 128), 1);
  EXPECT_EQ(widened.completes(40), 40);
  int gone = 0;
  {
    const Listener closed(5);
    gone = closed.port;
  }
  EXPECT_EQ(widen_listen_backlog(gone, 128), 0);  // nothing of ours listens there now
}

/// A KeepAliveServer on a loopback port of its own, answering GET /n with "ok", and whatever
/// else `routes` adds.
struct TestServer {
  explicit TestServer(int threads, time_t keep_alive_s = 5,
                      const std::function<void(KeepAliveServer&)>& routes = {})
      : server(threads) {
    server.set_keep_alive_timeout(keep_alive_s);
    server.Get("/n", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok", "text/plain");
    });
    if (routes) routes(server);
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~TestServer() {
    server.stop();
    thread.join();
  }
  /// Parked connections, once `want` are (within 5 s).
  std::size_t await_parked(std::size_t want) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (server.parked() != want && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return server.parked();
  }
  KeepAliveServer server;
  int port = 0;
  std::thread thread;
};

/// A raw loopback connection to `port`.
int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    throw std::runtime_error("cannot connect");
  return fd;
}

/// How many times `needle` occurs in `text`.
int count_of(const std::string& text, std::string_view needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

/// What arrives on `fd` within `limit`, until `count` answers ("ok" bodies) or the peer closes;
/// `closed` says whether it did.
std::string read_answers(int fd, int count, std::chrono::milliseconds limit,
                         bool* closed = nullptr) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  if (closed) *closed = false;
  while (count_of(got, "\r\n\r\nok") < count || closed) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    const auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      if (closed) *closed = true;
      break;
    }
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

constexpr std::string_view kGet = "GET /n HTTP/1.1\r\nHost: x\r\n\r\n";

TEST(KeepAliveServer, QuietKeptAliveConnectionsHoldNoWorker) {
  // Two workers at most, twenty connections kept alive, each asking in turn: with a worker per
  // open connection (cpp-httplib's own model) the third connection would wait for one of the
  // first two to be quiet for the keep-alive timeout (5 s) before its first answer.
  TestServer t(2);
  std::vector<httplib::Client> clients;
  clients.reserve(20);
  for (int i = 0; i < 20; ++i) {
    clients.emplace_back("127.0.0.1", t.port);
    clients.back().set_keep_alive(true);
    clients.back().set_read_timeout(10, 0);
  }
  const auto start = std::chrono::steady_clock::now();
  for (int round = 0; round < 3; ++round) {
    for (auto& c : clients) {
      auto res = c.Get("/n");
      ASSERT_TRUE(res);
      EXPECT_EQ(res->status, 200);
      EXPECT_EQ(res->body, "ok");
    }
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(t.await_parked(20), 20u);  // each one open, quiet, and without a worker
  EXPECT_LE(t.server.workers(), 2u);
}

TEST(KeepAliveServer, AnswersPipelinedRequestsInOrder) {
  TestServer t(2);
  const int fd = connect_to(t.port);
  const std::string three = std::string(kGet) + std::string(kGet) + std::string(kGet);
  ASSERT_EQ(::send(fd, three.data(), three.size(), 0), static_cast<ssize_t>(three.size()));
  const auto got = read_answers(fd, 3, std::chrono::seconds(5));
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
  EXPECT_EQ(count_of(got, "HTTP/1.1 200"), 3) << got;
  // And the connection stays usable.
  ASSERT_EQ(::send(fd, kGet.data(), kGet.size(), 0), static_cast<ssize_t>(kGet.size()));
  EXPECT_NE(read_answers(fd, 1, std::chrono::seconds(5)).find("\r\n\r\nok"), std::string::npos);
  ::close(fd);
}

TEST(KeepAliveServer, ClosesAConnectionQuietForTheKeepAliveTimeout) {
  TestServer t(2, 1);
  const int fd = connect_to(t.port);
  ASSERT_EQ(::send(fd, kGet.data(), kGet.size(), 0), static_cast<ssize_t>(kGet.size()));
  ASSERT_NE(read_answers(fd, 1, std::chrono::seconds(5)).find("\r\n\r\nok"), std::string::npos);
  EXPECT_EQ(t.await_parked(1), 1u);
  bool closed = false;
  read_answers(fd, 0, std::chrono::seconds(4), &closed);  // the timeout is 1 s, swept each second
  EXPECT_TRUE(closed);
  EXPECT_EQ(t.server.parked(), 0u);
  ::close(fd);
}

TEST(KeepAliveServer, ConnectionCloseIsHonoured) {
  TestServer t(2);
  const int fd = connect_to(t.port);
  const std::string req = "GET /n HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  bool closed = false;
  const auto got = read_answers(fd, 1, std::chrono::seconds(5), &closed);
  EXPECT_NE(got.find("\r\n\r\nok"), std::string::npos) << got;
  EXPECT_TRUE(closed);
  EXPECT_EQ(t.server.parked(), 0u);
  ::close(fd);
}

TEST(KeepAliveServer, SaysHowLongARequestWaitedForAWorker) {
  // One worker, busy for 300 ms with a slow request: a request that comes meanwhile on a
  // parked connection waits for it, and its handler can tell from request_ready_at().
  std::atomic<bool> slow_started{false};
  std::atomic<double> waited_s{-1};
  TestServer t(1, 5, [&](KeepAliveServer& s) {
    s.Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
      slow_started = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      res.set_content("ok", "text/plain");
    });
    s.Get("/waited", [&](const httplib::Request&, httplib::Response& res) {
      const auto ready = request_ready_at();
      waited_s =
          ready == std::chrono::steady_clock::time_point{}
              ? -2
              : std::chrono::duration<double>(std::chrono::steady_clock::now() - ready).count();
      res.set_content("ok", "text/plain");
    });
  });
  const std::string waited = "GET /waited HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string slow = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
  const int quick = connect_to(t.port);
  ASSERT_EQ(::send(quick, waited.data(), waited.size(), 0), static_cast<ssize_t>(waited.size()));
  ASSERT_NE(read_answers(quick, 1, std::chrono::seconds(5)).find("\r\n\r\nok"), std::string::npos);
  EXPECT_GE(waited_s.load(), 0.0);  // a free worker: known, and short
  EXPECT_LT(waited_s.load(), 0.2);
  ASSERT_EQ(t.await_parked(1), 1u);
  const int busy = connect_to(t.port);
  ASSERT_EQ(::send(busy, slow.data(), slow.size(), 0), static_cast<ssize_t>(slow.size()));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!slow_started && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(slow_started);
  waited_s = -1;
  ASSERT_EQ(::send(quick, waited.data(), waited.size(), 0), static_cast<ssize_t>(waited.size()));
  ASSERT_NE(read_answers(quick, 1, std::chrono::seconds(5)).find("\r\n\r\nok"), std::string::npos);
  EXPECT_GE(waited_s.load(), 0.2);  // it waited for the slow request's worker
  EXPECT_LT(waited_s.load(), 2.0);
  ::close(quick);
  ::close(busy);
}

TEST(KeepAliveServer, StopClosesTheParkedConnections) {
  auto t = std::make_unique<TestServer>(2);
  const int fd = connect_to(t->port);
  ASSERT_EQ(::send(fd, kGet.data(), kGet.size(), 0), static_cast<ssize_t>(kGet.size()));
  ASSERT_NE(read_answers(fd, 1, std::chrono::seconds(5)).find("\r\n\r\nok"), std::string::npos);
  ASSERT_EQ(t->await_parked(1), 1u);
  const auto start = std::chrono::steady_clock::now();
  t.reset();  // stop() and join: it must not wait for the parked connection's timeout
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  bool closed = false;
  read_answers(fd, 0, std::chrono::seconds(2), &closed);
  EXPECT_TRUE(closed);
  ::close(fd);
}

TEST(CopyField, EscapesWhatCopyTextFormatNeeds) {
  std::string out;
  copy_field(out, std::string_view("a\tb\nc\\d\re"));
  EXPECT_EQ(out, "a\\tb\\nc\\\\d\\re");
  out.clear();
  copy_field(out, std::nullopt);
  EXPECT_EQ(out, "\\N");
  out.clear();
  copy_field(out, std::string_view("\\N"));  // the text "\N" is not NULL
  EXPECT_EQ(out, "\\\\N");
}

TEST(Conninfo, QuotesValues) {
  EXPECT_EQ(conninfo({{"host", "127.0.0.1"}, {"password", "it's \\ hard"}}),
            "host='127.0.0.1' password='it\\'s \\\\ hard'");
}

TEST(Url, ParsesTheRealAndTheMockApi) {
  auto real = Url::parse("https://randomuser.me/api/");
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(real->scheme, "https");
  EXPECT_EQ(real->host, "randomuser.me");
  EXPECT_EQ(real->port, 443);
  EXPECT_EQ(real->path, "/api/");
  EXPECT_EQ(real->without_query(), "https://randomuser.me/api/");
  auto mock = Url::parse("http://127.0.0.1:8787/api/1.3/?nat=us");
  ASSERT_TRUE(mock.ok());
  EXPECT_EQ(mock->port, 8787);
  EXPECT_EQ(mock->path, "/api/1.3/");
  EXPECT_EQ(mock->query, "nat=us");
  EXPECT_EQ(mock->without_query(), "http://127.0.0.1:8787/api/1.3/");
  EXPECT_FALSE(Url::parse("ftp://example.com/").ok());
  EXPECT_FALSE(Url::parse("randomuser.me/api").ok());
}

TEST(Migrations, ListedInVersionOrderAndMisnamedFilesRefused) {
  auto dir = std::filesystem::temp_directory_path() / ("sf-mig-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "V010__later.sql") << "select 1;";
  std::ofstream(dir / "V002__first.sql") << "select 1;";
  std::ofstream(dir / "README.md") << "not sql";
  auto list = list_migrations(dir);
  ASSERT_TRUE(list.ok()) << list.error().describe();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "first");
  EXPECT_EQ((*list)[1].version, "010");
  std::ofstream(dir / "bad-name.sql") << "select 1;";
  EXPECT_FALSE(list_migrations(dir).ok());
  std::filesystem::remove_all(dir);
  EXPECT_EQ(list_migrations(dir).error().code, base::Errc::not_found);
}

TEST(Registry, ParsesSubjectsVersionsAndCompatibility) {
  auto subjects = parse_subjects(R"(["streamflow.staging.users-key","streamflow.dlq-value"])");
  ASSERT_TRUE(subjects);
  EXPECT_EQ(*subjects,
            (std::vector<std::string>{"streamflow.staging.users-key", "streamflow.dlq-value"}));
  EXPECT_FALSE(parse_subjects(R"({"subjects": []})"));
  EXPECT_FALSE(parse_subjects(R"([1, 2])"));

  auto version = parse_schema_version(
      R"({"subject":"t-value","version":3,"id":7,"schema":"{\"type\":\"string\"}"})");
  ASSERT_TRUE(version);
  EXPECT_EQ(version->subject, "t-value");
  EXPECT_EQ(version->version, 3);
  EXPECT_EQ(version->id, 7);
  EXPECT_EQ(version->schema, R"({"type":"string"})");
  EXPECT_FALSE(parse_schema_version(R"({"subject":"t-value","version":"3","id":7})"));
  EXPECT_FALSE(parse_schema_version("<html>502</html>"));

  EXPECT_EQ(parse_compatibility(R"({"compatibilityLevel":"BACKWARD"})").value(), "BACKWARD");
  EXPECT_EQ(parse_compatibility(R"({"compatibility":"FULL"})").value(), "FULL");
  EXPECT_FALSE(parse_compatibility(R"({"level":"FULL"})"));
  EXPECT_EQ(encode_path_segment("streamflow.staging.users-value"),
            "streamflow.staging.users-value");
  EXPECT_EQ(encode_path_segment("a b/c"), "a%20b%2Fc");
}

}  // namespace
}  // namespace streamflow::io

namespace streamflow::io {
namespace {

TEST(Connect, StatusSaysWhichPartFailedAndWhy) {
  const std::string body =
      R"json({"name":"c","connector":{"state":"RUNNING","worker_id":"w"},"tasks":[)json"
      R"json({"id":1,"state":"RUNNING","worker_id":"w"},)json"
      R"json({"id":0,"state":"FAILED","worker_id":"w","trace":)json"
      R"json("org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded\n\tat x.y(Z.java:1)\n)json"
      R"json(Caused by: org.apache.kafka.connect.errors.DataException: streamflow\n\tat a.b(C.java:2)\n)json"
      R"json(Caused by: io.apicurio.registry.rest.client.exception.RuleViolationException: )json"
      R"json(Incompatible artifact\n\tat d.e(F.java:3)"}]})json";
  auto state = parse_connector_state(body);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->summary(), "RUNNING task0=FAILED task1=RUNNING");
  EXPECT_EQ(state->failure,
            "io.apicurio.registry.rest.client.exception.RuleViolationException: Incompatible "
            "artifact");
  auto fine = parse_connector_state(R"({"connector":{"state":"RUNNING"},"tasks":[]})");
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->failure, "");
  EXPECT_EQ(trace_cause("java.lang.IllegalStateException: slot in use\n\tat a.b(C.java:1)"),
            "java.lang.IllegalStateException: slot in use");
  EXPECT_FALSE(parse_connector_state("<html>"));
}

}  // namespace
}  // namespace streamflow::io

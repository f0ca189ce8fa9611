#include <arpa/inet.h>
#include <gtest/gtest.h>
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

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
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
/// connection does to its worker. Counts the jobs that saw all `n` start, and the most that ran
/// at once.
struct Rendezvous {
  explicit Rendezvous(int together) : n(together) {}
  void job(std::chrono::milliseconds limit) {
    std::unique_lock lock(mu);
    peak = std::max(peak, ++running);
    ++arrived;
    cv.notify_all();
    if (cv.wait_for(lock, limit, [this] { return arrived >= n; })) ++met;
    --running;
  }
  const int n;
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0, running = 0, peak = 0, met = 0;
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
  Rendezvous r(7);  // never all together: each waits out its limit
  for (int i = 0; i < 7; ++i) pool.enqueue([&r] { r.job(std::chrono::milliseconds(50)); });
  pool.shutdown();
  EXPECT_EQ(r.arrived, 7);
  EXPECT_EQ(r.peak, 3);
}

TEST(ElasticPool, WorkersWithNothingToDoEndDownToItsLeast) {
  ElasticPool pool(2, 16, std::chrono::milliseconds(50));
  Rendezvous r(8);
  for (int i = 0; i < 8; ++i) pool.enqueue([&r] { r.job(std::chrono::seconds(10)); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pool.threads() > 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(r.met, 8);
  EXPECT_EQ(pool.threads(), 2u);
  // The ones left still take work.
  std::atomic<int> ran = 0;
  for (int i = 0; i < 5; ++i) pool.enqueue([&ran] { ++ran; });
  pool.shutdown();
  EXPECT_EQ(ran.load(), 5);
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

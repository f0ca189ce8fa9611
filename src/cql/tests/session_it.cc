// The bridge against a real Cassandra: prepared batches with type conversion and concurrency,
// paging, and errors. Needs STREAMFLOW_CQL_CONTACT_POINT ("127.0.0.1:<port>"; skipped without
// it). Run by tests/integration/test_cassandra.py against the stack it starts; ctest label
// "integration".
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "cql/cql.h"

namespace streamflow::cql {
namespace {

class SessionIt : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* contact_point = std::getenv("STREAMFLOW_CQL_CONTACT_POINT");
    if (!contact_point || !*contact_point) GTEST_SKIP() << "STREAMFLOW_CQL_CONTACT_POINT unset";
    ConnectOptions options;
    options.contact_point = contact_point;
    auto session = Session::connect(options);
    ASSERT_TRUE(session.ok()) << session.error().describe();
    session_.emplace(std::move(*session));
    keyspace_ = "sf_bridge_it_" + std::to_string(::getpid());
    ASSERT_TRUE(run("CREATE KEYSPACE IF NOT EXISTS " + keyspace_ +
                    " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"));
    ASSERT_TRUE(session_->use_keyspace(keyspace_).ok());
    ASSERT_TRUE(
        run("CREATE TABLE IF NOT EXISTS t (id uuid PRIMARY KEY, n int, b bigint, d double, "
            "ts timestamp, day date, ok boolean, s text)"));
  }
  void TearDown() override {
    if (session_) (void)session_->execute("DROP KEYSPACE IF EXISTS " + keyspace_);
  }
  bool run(const std::string& cql) {
    auto r = session_->execute(cql);
    EXPECT_TRUE(r.ok()) << cql << ": " << r.error().describe();
    return r.ok();
  }
  std::string count() {
    auto rows = session_->query("SELECT count(*) FROM t");
    EXPECT_TRUE(rows.ok()) << rows.error().describe();
    return rows.ok() ? rows->rows.at(0).at(0).value_or("null") : "?";
  }
  static std::string uuid_for(int i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", i);
    return buf;
  }

  std::optional<Session> session_;
  std::string keyspace_;
};

TEST_F(SessionIt, PreparedBatchConvertsTextAndWritesEveryRowConcurrently) {
  auto insert = session_->prepare(
      "INSERT INTO t (id, n, b, d, ts, day, ok, s) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.error().describe();
  EXPECT_EQ(insert->columns(),
            (std::vector<std::string>{"id", "n", "b", "d", "ts", "day", "ok", "s"}));
  constexpr int kRows = 20000;
  std::vector<Params> rows;
  for (int i = 0; i < kRows; ++i) {
    rows.push_back({uuid_for(i), std::to_string(i), std::to_string(9'000'000'000LL + i),
                    std::to_string(i) + ".25",
                    i % 2 ? Value("2024-05-06T07:08:09.010Z") : Value("1714979289010"),
                    "2024-05-06", i % 3 ? "true" : "false",
                    i % 5 ? Value("user " + std::to_string(i)) : std::nullopt});
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto written = session_->execute_batch(*insert, rows, 128);
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(written.ok()) << written.error().describe();
  EXPECT_EQ(*written, static_cast<std::uint64_t>(kRows));
  std::printf("wrote %d rows in %.2f s (%.0f rows/s, 128 in flight)\n", kRows, seconds,
              kRows / seconds);
  EXPECT_EQ(count(), std::to_string(kRows));

  auto one =
      session_->query("SELECT id, n, b, d, ts, day, ok, s FROM t WHERE id = ?", {uuid_for(10)});
  ASSERT_TRUE(one.ok()) << one.error().describe();
  ASSERT_EQ(one->rows.size(), 1u);
  EXPECT_EQ(one->rows[0],
            (std::vector<Value>{uuid_for(10), "10", "9000000010", "10.25",
                                "2024-05-06T07:08:09.010Z", "2024-05-06", "true", std::nullopt}));
  // Every page: 20000 rows come back although a page holds 5000.
  auto all = session_->query("SELECT id FROM t");
  ASSERT_TRUE(all.ok()) << all.error().describe();
  EXPECT_EQ(all->rows.size(), static_cast<std::size_t>(kRows));
}

TEST_F(SessionIt, ABadValueFailsTheBatchBeforeAnythingIsWritten) {
  auto insert = session_->prepare("INSERT INTO t (id, n, ts) VALUES (?, ?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.error().describe();
  std::vector<Params> rows;
  for (int i = 0; i < 10; ++i) rows.push_back({uuid_for(i), std::to_string(i), "0"});
  rows[3][2] = "next tuesday";
  auto written = session_->execute_batch(*insert, rows, 4);
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, base::Errc::invalid_argument);
  EXPECT_NE(written.error().message.find("row 3: column ts (timestamp): 'next tuesday' is not"),
            std::string::npos)
      << written.error().message;
  EXPECT_EQ(count(), "0");

  rows[3].pop_back();
  auto short_row = session_->execute_batch(*insert, rows, 4);
  ASSERT_FALSE(short_row.ok());
  EXPECT_EQ(short_row.error().code, base::Errc::invalid_argument);
  EXPECT_NE(short_row.error().message.find("row 3 has 2 value(s)"), std::string::npos);
}

TEST_F(SessionIt, ServerErrorsComeBackAsResults) {
  auto bad = session_->prepare("INSERT INTO no_such_table (id) VALUES (?)");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, base::Errc::invalid_argument) << bad.error().describe();
  auto syntax = session_->execute("CREATE TABLE (");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().code, base::Errc::invalid_argument) << syntax.error().describe();
  auto missing = session_->use_keyspace("no_such_keyspace_here");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no_such_keyspace_here"), std::string::npos)
      << missing.error().describe();
  // The session still works after errors.
  EXPECT_EQ(count(), "0");
}

TEST_F(SessionIt, DdlWaitsForSchemaAgreementSoTheTableIsUsableAtOnce) {
  ASSERT_TRUE(run("CREATE TABLE fresh (k text PRIMARY KEY, v text)"));
  auto insert = session_->query("INSERT INTO fresh (k, v) VALUES (?, ?)", {"a", std::nullopt});
  ASSERT_TRUE(insert.ok()) << insert.error().describe();
  EXPECT_TRUE(insert->columns.empty());
  auto rows = session_->query("SELECT k, v FROM fresh");
  ASSERT_TRUE(rows.ok()) << rows.error().describe();
  EXPECT_EQ(rows->columns, (std::vector<std::string>{"k", "v"}));
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->rows[0], (std::vector<Value>{"a", std::nullopt}));
}

}  // namespace
}  // namespace streamflow::cql

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "io/connect.h"
#include "io/http.h"
#include "io/migrations.h"
#include "io/pg.h"
#include "io/registry.h"

namespace streamflow::io {
namespace {

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

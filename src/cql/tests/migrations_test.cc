#include "cql/migrations.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace streamflow::cql {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> split(std::string_view script) {
  auto r = split_statements(script);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().describe());
  return r.ok() ? *r : std::vector<std::string>{};
}

class MigrationDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sf-cql-mig-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void touch(const std::string& name) { std::ofstream(dir_ / name) << "-- empty\n"; }
  fs::path dir_;
};

TEST_F(MigrationDir, ListsCqlFilesInNumericVersionOrder) {
  touch("V10__later.cql");
  touch("V002__analytics.cql");
  touch("V001__users.cql");
  touch("README.md");     // other files are ignored
  touch("V003__pg.sql");  // so are SQL migrations
  auto list = list_migrations(dir_);
  ASSERT_TRUE(list.ok()) << list.error().describe();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].version, "001");
  EXPECT_EQ((*list)[0].name, "users");
  EXPECT_EQ((*list)[1].version, "002");
  EXPECT_EQ((*list)[2].version, "10");
  EXPECT_EQ((*list)[2].file, dir_ / "V10__later.cql");
}

TEST_F(MigrationDir, RejectsAMisnamedFile) {
  touch("V001__users.cql");
  touch("v2_analytics.cql");
  auto list = list_migrations(dir_);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code, base::Errc::invalid_argument);
  EXPECT_NE(list.error().message.find("v2_analytics.cql"), std::string::npos);
}

TEST_F(MigrationDir, RejectsTwoFilesWithTheSameVersion) {
  touch("V1__users.cql");
  touch("V001__people.cql");
  auto list = list_migrations(dir_);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code, base::Errc::invalid_argument);
  EXPECT_NE(list.error().message.find("two CQL migrations"), std::string::npos);
}

TEST_F(MigrationDir, MissingDirectoryIsNotFound) {
  auto list = list_migrations(dir_ / "absent");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code, base::Errc::not_found);
}

TEST_F(MigrationDir, EmptyDirectoryHasNoMigrations) {
  auto list = list_migrations(dir_);
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST(SplitStatements, SplitsOnSemicolonAtTheEndOfALine) {
  auto s = split(
      "CREATE TABLE a (\n"
      "  id int PRIMARY KEY\n"
      ");\n"
      "\n"
      "CREATE TABLE b (id int PRIMARY KEY);   \n");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], "CREATE TABLE a (\n  id int PRIMARY KEY\n)");
  EXPECT_EQ(s[1], "CREATE TABLE b (id int PRIMARY KEY)");
}

TEST(SplitStatements, ASemicolonInsideALineDoesNotSplit) {
  auto s = split("INSERT INTO t (k, v) VALUES (1, 'a;b'); INSERT INTO t (k) VALUES (2);\n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0], "INSERT INTO t (k, v) VALUES (1, 'a;b'); INSERT INTO t (k) VALUES (2)");
}

TEST(SplitStatements, StripsCommentsOutsideLiterals) {
  auto s = split(
      "-- a header that mentions ';' at the end of a line;\n"
      "CREATE TABLE t (\n"
      "  k text PRIMARY KEY, -- the key; unique\n"
      "  v text              // another comment style;\n"
      "); -- trailing comment after the end\n"
      "/* a block comment;\n"
      "   over lines; */\n"
      "INSERT INTO t (k, v) VALUES ('--not a comment', '// nor this');\n");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].find("--"), std::string::npos);
  EXPECT_EQ(s[0].find("//"), std::string::npos);
  EXPECT_NE(s[0].find("k text PRIMARY KEY,"), std::string::npos);
  EXPECT_NE(s[0].find("v text"), std::string::npos);
  EXPECT_EQ(s[1], "INSERT INTO t (k, v) VALUES ('--not a comment', '// nor this')");
}

TEST(SplitStatements, SemicolonAtLineEndInsideALiteralDoesNotSplit) {
  auto s = split(
      "INSERT INTO t (k, v) VALUES (1, 'first line;\n"
      "second line; it''s fine');\n"
      "CREATE FUNCTION f() RETURNS NULL ON NULL INPUT RETURNS int LANGUAGE java AS $$\n"
      "  return 1;\n"
      "$$;\n");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], "INSERT INTO t (k, v) VALUES (1, 'first line;\nsecond line; it''s fine')");
  EXPECT_NE(s[1].find("return 1;\n$$"), std::string::npos);
}

TEST(SplitStatements, KeepsALastStatementWithoutSemicolonAndDropsEmptyOnes) {
  auto s = split(";\n\n  ;\nSELECT * FROM t");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0], "SELECT * FROM t");
  EXPECT_TRUE(split("").empty());
  EXPECT_TRUE(split("-- only a comment\n").empty());
}

TEST(SplitStatements, HandlesCrLfLineEnds) {
  auto s = split("CREATE TABLE a (k int PRIMARY KEY);\r\nCREATE TABLE b (k int PRIMARY KEY);\r\n");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1], "CREATE TABLE b (k int PRIMARY KEY)");
}

TEST(SplitStatements, UnterminatedLiteralOrCommentIsAnError) {
  for (const char* bad : {"INSERT INTO t (k) VALUES ('oops);\n", "/* never closed;\n",
                          "SELECT \"col FROM t;\n", "AS $$ body;\n"}) {
    auto r = split_statements(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, base::Errc::invalid_argument);
    EXPECT_NE(r.error().message.find("unterminated"), std::string::npos) << r.error().message;
  }
  auto r = split_statements("SELECT 1;\n\nINSERT INTO t (k) VALUES ('x\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("line 3"), std::string::npos) << r.error().message;
}

TEST(SplitStatements, TheRepositoryMigrationsSplitIntoTheirTables) {
  auto list = list_migrations(STREAMFLOW_CQL_MIGRATIONS_DIR);
  ASSERT_TRUE(list.ok()) << list.error().describe();
  ASSERT_GE(list->size(), 2u);
  std::vector<std::size_t> counts;
  for (const auto& m : *list) {
    std::ifstream in(m.file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto statements = split(text);
    for (const auto& st : statements) {
      EXPECT_TRUE(st.rfind("CREATE TABLE IF NOT EXISTS ", 0) == 0 ||
                  st.rfind("CREATE INDEX IF NOT EXISTS ", 0) == 0)
          << m.file << ": " << st;
      EXPECT_EQ(st.find("--"), std::string::npos) << st;
    }
    counts.push_back(statements.size());
  }
  EXPECT_EQ(counts[0], 2u);  // users, its country_code index
  EXPECT_EQ(counts[1], 4u);  // three signups_by_*_minute tables, users_per_country
}

TEST(KeyspaceName, AcceptsWhatCassandraTakesUnquoted) {
  EXPECT_TRUE(valid_keyspace_name("streamflow"));
  EXPECT_TRUE(valid_keyspace_name("sf_test_2"));
  EXPECT_TRUE(valid_keyspace_name(std::string(48, 'k')));
  EXPECT_FALSE(valid_keyspace_name(""));
  EXPECT_FALSE(valid_keyspace_name("2fast"));
  EXPECT_FALSE(valid_keyspace_name("_private"));
  EXPECT_FALSE(valid_keyspace_name("sf; DROP KEYSPACE system"));
  EXPECT_FALSE(valid_keyspace_name("with-dash"));
  EXPECT_FALSE(valid_keyspace_name(std::string(49, 'k')));
}

}  // namespace
}  // namespace streamflow::cql

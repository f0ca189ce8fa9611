#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "io/http.h"
#include "io/migrations.h"
#include "io/pg.h"

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

}  // namespace
}  // namespace streamflow::io

#include "cql/format.h"

#include <gtest/gtest.h>

namespace streamflow::cql {
namespace {

Rows sample() {
  Rows rows;
  rows.columns = {"version", "name", "note"};
  rows.rows = {{"001", "users", std::nullopt}, {"002", "", "tab\there\nnew line \\ back"}};
  return rows;
}

TEST(FormatTsv, HeaderThenOneLinePerRowWithEscapesAndNull) {
  EXPECT_EQ(format_tsv(sample()),
            "version\tname\tnote\n"
            "001\tusers\t\\N\n"
            "002\t\ttab\\there\\nnew line \\\\ back\n");
}

TEST(FormatTsv, NoColumnsPrintsNothingAndNoRowsPrintsTheHeader) {
  EXPECT_EQ(format_tsv(Rows{}), "");
  Rows empty;
  empty.columns = {"a", "b"};
  EXPECT_EQ(format_tsv(empty), "a\tb\n");
}

TEST(FormatJson, ObjectsKeepColumnOrderAndNull) {
  EXPECT_EQ(format_json(sample()),
            "[\n"
            "  {\n"
            "    \"version\": \"001\",\n"
            "    \"name\": \"users\",\n"
            "    \"note\": null\n"
            "  },\n"
            "  {\n"
            "    \"version\": \"002\",\n"
            "    \"name\": \"\",\n"
            "    \"note\": \"tab\\there\\nnew line \\\\ back\"\n"
            "  }\n"
            "]\n");
  EXPECT_EQ(format_json(Rows{}), "[]\n");
}

TEST(ParseTsv, IsTheInverseOfFormatTsv) {
  Rows rows;
  rows.columns = {"id", "name", "note"};
  rows.rows = {{Value{"1"}, Value{"tab\there"}, std::nullopt},
               {Value{"2"}, Value{""}, Value{"back\\slash\nnew line\rcr \\N"}}};
  auto parsed = parse_tsv(format_tsv(rows));
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->columns, rows.columns);
  EXPECT_EQ(parsed->rows, rows.rows);
}

TEST(ParseTsv, NamesTheLineOfABadRow) {
  auto wrong_width = parse_tsv("a\tb\n1\t2\n3\n");
  ASSERT_FALSE(wrong_width.ok());
  EXPECT_NE(wrong_width.error().message.find("line 3"), std::string::npos);
  EXPECT_FALSE(parse_tsv("a\nx\\q\n").ok());
  EXPECT_FALSE(parse_tsv("a\nx\\\n").ok());
  EXPECT_FALSE(parse_tsv("a\nx\\N\n").ok());  // \N is a whole field or nothing
}

}  // namespace
}  // namespace streamflow::cql

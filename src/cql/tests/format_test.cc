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

}  // namespace
}  // namespace streamflow::cql

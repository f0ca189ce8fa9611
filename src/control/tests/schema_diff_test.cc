#include "control/schema_diff.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace streamflow::control {
namespace {

using nlohmann::json;

/// staging.users' change events as Debezium's Avro converter registers them (compact, as the
/// registry's `schema` member holds them): the row as a Value record in a ["null", Value] union
/// for `before`, referred to by name for `after`, the source block, op and ts_ms. `extra` is
/// appended to the Value's fields (ALTER TABLE ... ADD COLUMN appends).
std::string envelope(const std::string& dob_age_type, const std::string& extra = "") {
  return R"({"type":"record","name":"Envelope","namespace":"streamflow.staging.users","fields":[)"
         R"({"name":"before","type":["null",{"type":"record","name":"Value","fields":[)"
         R"({"name":"user_id","type":{"type":"string","connect.version":1,)"
         R"("connect.name":"io.debezium.data.Uuid"}},)"
         R"({"name":"email","type":["null","string"],"default":null},)"
         R"({"name":"country","type":["null","string"],"default":null},)"
         R"({"name":"dob_age","type":)" +
         dob_age_type +
         R"(,"default":null},)"
         R"({"name":"updated_at","type":{"type":"long","connect.version":1,)"
         R"("connect.name":"io.debezium.time.MicroTimestamp"}})" +
         extra +
         R"(],"connect.name":"streamflow.staging.users.Value"}],"default":null},)"
         R"({"name":"after","type":["null","Value"],"default":null},)"
         R"({"name":"source","type":{"type":"record","name":"Source",)"
         R"("namespace":"io.debezium.connector.postgresql","fields":[)"
         R"({"name":"version","type":"string"},{"name":"connector","type":"string"},)"
         R"({"name":"ts_ms","type":"long"},)"
         R"({"name":"snapshot","type":[{"type":"string","connect.version":1,)"
         R"("connect.parameters":{"allowed":"true,last,false,incremental"},"connect.default":"false",)"
         R"("connect.name":"io.debezium.data.Enum"},"null"],"default":"false"},)"
         R"({"name":"lsn","type":["null","long"],"default":null}]}},)"
         R"({"name":"op","type":"string"},)"
         R"({"name":"ts_ms","type":["null","long"],"default":null}],)"
         R"("connect.name":"streamflow.staging.users.Envelope"})";
}

const std::string kV1 = envelope(R"(["null","int"])");
const std::string kV2 = envelope(
    R"(["null","int"])", R"(,{"name":"loyalty_tier","type":["null","string"],"default":null})");

std::vector<std::string> ops_text(const json& lines, char op) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    if (l["op"] == std::string(1, op)) out.push_back(l["text"]);
  }
  return out;
}

/// The old text is the ' ' and '-' lines, the new one the ' ' and '+' lines.
std::vector<std::string> side(const json& lines, char changed) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    const auto op = l["op"].get<std::string>();
    if (op == " " || op == std::string(1, changed)) out.push_back(l["text"]);
  }
  return out;
}

std::vector<std::string> pretty_lines(const std::string& schema) {
  std::vector<std::string> out;
  const auto text = nlohmann::ordered_json::parse(schema).dump(2);
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = text.find('\n', start);
    out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

TEST(SchemaDiff, ANullableColumnAddedToADebeziumEnvelopeShowsUnderBeforeAndAfter) {
  const auto d = schema_diff(kV1, kV2);
  EXPECT_FALSE(d.contains("error"));
  EXPECT_EQ(d["fields_added"],
            json::parse(R"([{"path":"before.loyalty_tier","type":"[\"null\",\"string\"]"},)"
                        R"({"path":"after.loyalty_tier","type":"[\"null\",\"string\"]"}])"));
  EXPECT_EQ(d["fields_removed"], json::array());
  // before's type shows the Value record by name: its new field is not a retype of before.
  EXPECT_EQ(d["fields_changed"], json::array());

  // The pretty-printed schemas; nothing removed, and the shortest way to add the column is to
  // keep the closing brace of the old last field as the new one's and insert before it.
  const auto& lines = d["lines"];
  EXPECT_EQ(side(lines, '-'), pretty_lines(kV1));
  EXPECT_EQ(side(lines, '+'), pretty_lines(kV2));
  EXPECT_TRUE(ops_text(lines, '-').empty());
  EXPECT_EQ(
      ops_text(lines, '+'),
      (std::vector<std::string>{
          "            },", "            {", "              \"name\": \"loyalty_tier\",",
          "              \"type\": [", "                \"null\",", "                \"string\"",
          "              ],", "              \"default\": null"}));
  EXPECT_EQ(lines.size(), pretty_lines(kV1).size() + 8);
  EXPECT_EQ(lines[0], json::parse(R"({"op":" ","text":"{"})"));
  EXPECT_EQ(lines[1], json::parse(R"({"op":" ","text":"  \"type\": \"record\","})"));
}

TEST(SchemaDiff, EveryFieldIsListedByPathThroughUnionsAndNamedReferences) {
  // A subject's first version against no schema at all: every field is added, in order.
  const auto d = schema_diff("", kV1);
  EXPECT_FALSE(d.contains("error"));
  std::vector<std::string> paths;
  for (const auto& f : d["fields_added"]) paths.push_back(f["path"]);
  EXPECT_EQ(paths, (std::vector<std::string>{"before",
                                             "before.user_id",
                                             "before.email",
                                             "before.country",
                                             "before.dob_age",
                                             "before.updated_at",
                                             "after",
                                             "after.user_id",
                                             "after.email",
                                             "after.country",
                                             "after.dob_age",
                                             "after.updated_at",
                                             "source",
                                             "source.version",
                                             "source.connector",
                                             "source.ts_ms",
                                             "source.snapshot",
                                             "source.lsn",
                                             "op",
                                             "ts_ms"}));
  EXPECT_EQ(d["fields_added"][0]["type"], R"(["null","Value"])");
  EXPECT_EQ(d["fields_added"][1]["type"],
            R"({"type":"string","connect.version":1,"connect.name":"io.debezium.data.Uuid"})");
  EXPECT_EQ(d["fields_added"][12]["type"], R"("Source")");
  EXPECT_EQ(ops_text(d["lines"], '+'), pretty_lines(kV1));
  EXPECT_TRUE(ops_text(d["lines"], '-').empty());
  EXPECT_TRUE(ops_text(d["lines"], ' ').empty());
}

TEST(SchemaDiff, ARetypedAndARemovedColumn) {
  const auto to = R"({"type":"record","name":"Envelope","namespace":"streamflow.staging.users",)"
                  R"("fields":[{"name":"before","type":["null",{"type":"record","name":"Value",)"
                  R"("fields":[{"name":"user_id","type":"string"},)"
                  R"({"name":"dob_age","type":["null","string"],"default":null}]}]},)"
                  R"({"name":"after","type":["null","Value"]}]})";
  const auto from =
      R"({"type":"record","name":"Envelope","namespace":"streamflow.staging.users",)"
      R"("fields":[{"name":"before","type":["null",{"type":"record","name":"Value",)"
      R"("fields":[{"name":"user_id","type":"string"},{"name":"email","type":["null","string"]},)"
      R"({"name":"dob_age","type":["null","int"],"default":null}]}]},)"
      R"({"name":"after","type":["null","Value"]}]})";
  const auto d = schema_diff(from, to);
  EXPECT_EQ(d["fields_added"], json::array());
  EXPECT_EQ(d["fields_removed"],
            json::parse(R"([{"path":"before.email","type":"[\"null\",\"string\"]"},)"
                        R"({"path":"after.email","type":"[\"null\",\"string\"]"}])"));
  EXPECT_EQ(d["fields_changed"],
            json::parse(R"([{"path":"before.dob_age","from":"[\"null\",\"int\"]",)"
                        R"("to":"[\"null\",\"string\"]"},)"
                        R"({"path":"after.dob_age","from":"[\"null\",\"int\"]",)"
                        R"("to":"[\"null\",\"string\"]"}])"));
}

TEST(SchemaDiff, RecordsInArraysAndMapsAndRecursiveTypes) {
  const auto from =
      R"({"type":"record","name":"Node","fields":[)"
      R"({"name":"label","type":"string"},)"
      R"({"name":"next","type":["null","Node"]},)"
      R"({"name":"tags","type":{"type":"array","items":{"type":"record","name":"Tag",)"
      R"("fields":[{"name":"key","type":"string"}]}}},)"
      R"({"name":"by_name","type":{"type":"map","values":"Tag"}}]})";
  const auto to =
      R"({"type":"record","name":"Node","fields":[)"
      R"({"name":"label","type":"string"},)"
      R"({"name":"next","type":["null","Node"]},)"
      R"({"name":"tags","type":{"type":"array","items":{"type":"record","name":"Tag",)"
      R"("fields":[{"name":"key","type":"string"},{"name":"weight","type":"double"}]}}},)"
      R"({"name":"by_name","type":{"type":"map","values":"Tag"}}]})";
  const auto d = schema_diff(from, to);
  EXPECT_EQ(d["fields_added"], json::parse(R"([{"path":"tags.weight","type":"\"double\""},)"
                                           R"({"path":"by_name.weight","type":"\"double\""}])"));
  EXPECT_EQ(d["fields_changed"], json::array());
  EXPECT_EQ(d["fields_removed"], json::array());
  // The array's type shows its record by name, so that a field added to it is no retype.
  const auto all = schema_diff("", to);
  EXPECT_EQ(all["fields_added"][2], json::parse(R"({"path":"tags","type":)"
                                                R"("{\"type\":\"array\",\"items\":\"Tag\"}"})"));
  std::vector<std::string> paths;
  for (const auto& f : all["fields_added"]) paths.push_back(f["path"]);
  EXPECT_EQ(paths, (std::vector<std::string>{"label", "next", "tags", "tags.key", "tags.weight",
                                             "by_name", "by_name.key", "by_name.weight"}));
}

TEST(SchemaDiff, KeyOrderAloneIsNoChangeButAnEnumsSymbolsAre) {
  const auto from =
      R"({"type":"record","name":"R","fields":[)"
      R"({"name":"t","type":{"type":"long","connect.name":"x.Ts","connect.version":1}},)"
      R"({"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}]})";
  const auto to =
      R"({"type":"record","name":"R","fields":[)"
      R"({"name":"t","type":{"connect.version":1,"connect.name":"x.Ts","type":"long"}},)"
      R"({"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}}]})";
  const auto d = schema_diff(from, to);
  ASSERT_EQ(d["fields_changed"].size(), 1U);
  EXPECT_EQ(d["fields_changed"][0]["path"], "e");
  EXPECT_EQ(d["fields_changed"][0]["from"], R"({"type":"enum","name":"E","symbols":["A","B"]})");
  EXPECT_EQ(d["fields_changed"][0]["to"], R"({"type":"enum","name":"E","symbols":["A","B","C"]})");
}

TEST(SchemaDiff, TextThatIsNotJsonIsAnErrorNotAnException) {
  const auto d = schema_diff(kV1, R"({"type":"record","fields":[)");
  ASSERT_TRUE(d.contains("error"));
  const auto error = d["error"].get<std::string>();
  EXPECT_NE(error.find("the new schema (to) is not JSON"), std::string::npos) << error;
  EXPECT_EQ(error.find("old schema"), std::string::npos) << error;
  EXPECT_EQ(d["fields_added"], json::array());
  EXPECT_EQ(d["fields_changed"], json::array());
  // The raw texts, line by line: one line each.
  EXPECT_EQ(d["lines"], json::parse(R"([{"op":"-","text":)" + json(kV1).dump() +
                                    R"(},{"op":"+","text":"{\"type\":\"record\",\"fields\":["}])"));

  const auto both = schema_diff("syntax = \"proto3\";", "{");
  EXPECT_NE(both["error"].get<std::string>().find("old schema (from)"), std::string::npos);
  EXPECT_NE(both["error"].get<std::string>().find("new schema (to)"), std::string::npos);

  // JSON that is no Avro schema has no fields, and no exception either.
  const auto odd = schema_diff(R"({"type":"record","name":5,"fields":[{"name":1},7]})",
                               R"({"type":"record","name":"R","fields":{"x":1}})");
  EXPECT_FALSE(odd.contains("error"));
  EXPECT_EQ(odd["fields_added"], json::array());
}

TEST(DiffLines, ShortestEditInOrder) {
  const auto d = diff_lines({"a", "b", "c", "d"}, {"a", "x", "c", "d", "e"});
  std::string got;
  for (const auto& l : d) got += std::string(1, l.op) + l.text + "|";
  EXPECT_EQ(got, " a|-b|+x| c| d|+e|");
  EXPECT_TRUE(diff_lines({}, {}).empty());
  std::string swapped;
  for (const auto& l : diff_lines({"x", "y"}, {"y", "x"})) {
    swapped += std::string(1, l.op) + l.text + "|";
  }
  EXPECT_EQ(swapped, "-x| y|+x|");
}

}  // namespace
}  // namespace streamflow::control

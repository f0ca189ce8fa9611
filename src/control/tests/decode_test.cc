#include "control/decode.h"

#include <avro.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "control/messages.h"

namespace streamflow::control {
namespace {

using nlohmann::json;

/// Encodes one datum with libavro's own writer (the encoder Connect's converter is compatible
/// with), so that the decoder is checked against bytes it did not produce itself. Aborts the
/// test on any libavro failure.
std::string avro_encode(const std::string& schema_json,
                        const std::function<void(avro_value_t*)>& fill) {
  avro_schema_t schema = nullptr;
  EXPECT_EQ(avro_schema_from_json_length(schema_json.data(), schema_json.size(), &schema), 0)
      << avro_strerror();
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
  avro_value_t value;
  EXPECT_EQ(avro_generic_value_new(iface, &value), 0) << avro_strerror();
  fill(&value);
  std::string buf(64 * 1024, '\0');
  avro_writer_t writer = avro_writer_memory(buf.data(), static_cast<std::int64_t>(buf.size()));
  EXPECT_EQ(avro_value_write(writer, &value), 0) << avro_strerror();
  buf.resize(static_cast<std::size_t>(avro_writer_tell(writer)));
  avro_writer_free(writer);
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
  return buf;
}

/// The member `name` of a record value.
avro_value_t field(avro_value_t* record, const char* name) {
  avro_value_t out;
  EXPECT_EQ(avro_value_get_by_name(record, name, &out, nullptr), 0) << name;
  return out;
}

/// Sets a union to its branch `index` and returns that branch.
avro_value_t branch(avro_value_t* u, int index) {
  avro_value_t out;
  EXPECT_EQ(avro_value_set_branch(u, index, &out), 0);
  return out;
}

/// Confluent's framing: magic byte 0, the schema id big-endian, the Avro binary.
std::string framed(std::uint32_t id, const std::string& avro) {
  std::string out(1, '\0');
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>(id >> shift & 0xFF);
  return out + avro;
}

const std::string kUserSchema = R"({
  "type": "record", "name": "User", "namespace": "test",
  "fields": [
    {"name": "nickname", "type": ["null", "string"]},
    {"name": "maybe", "type": ["null", "string"]},
    {"name": "count", "type": "long"},
    {"name": "age", "type": "int"},
    {"name": "address", "type": {"type": "record", "name": "Address",
        "fields": [{"name": "city", "type": "string"}, {"name": "zip", "type": ["null", "int"]}]}},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "scores", "type": {"type": "map", "values": "double"}},
    {"name": "colour", "type": {"type": "enum", "name": "Colour", "symbols": ["RED", "GREEN", "BLUE"]}},
    {"name": "blob", "type": "bytes"},
    {"name": "tag4", "type": {"type": "fixed", "name": "Tag4", "size": 4}},
    {"name": "active", "type": "boolean"},
    {"name": "ratio", "type": "float"}
  ]})";

/// One User with every field set: what kExpectedUser is the JSON of.
std::string encode_user() {
  return avro_encode(kUserSchema, [](avro_value_t* rec) {
    avro_value_t f = field(rec, "nickname");
    avro_value_t b = branch(&f, 1);
    avro_value_set_string(&b, "Zoë");
    f = field(rec, "maybe");
    b = branch(&f, 0);
    avro_value_set_null(&b);
    f = field(rec, "count");
    avro_value_set_long(&f, 9007199254740993LL);  // past a double's exact integers
    f = field(rec, "age");
    avro_value_set_int(&f, -42);
    avro_value_t address = field(rec, "address");
    f = field(&address, "city");
    avro_value_set_string(&f, "Billings");
    f = field(&address, "zip");
    b = branch(&f, 1);
    avro_value_set_int(&b, 63104);
    avro_value_t tags = field(rec, "tags");
    for (const char* t : {"a", "b"}) {
      avro_value_t item;
      avro_value_append(&tags, &item, nullptr);
      avro_value_set_string(&item, t);
    }
    avro_value_t scores = field(rec, "scores");
    for (const auto& [k, v] : {std::pair{"x", 1.5}, std::pair{"y", -2.0}}) {
      avro_value_t item;
      avro_value_add(&scores, k, &item, nullptr, nullptr);
      avro_value_set_double(&item, v);
    }
    f = field(rec, "colour");
    avro_value_set_enum(&f, 2);
    f = field(rec, "blob");
    char bytes[] = {'\x00', '\x01', '\xff'};
    avro_value_set_bytes(&f, bytes, sizeof(bytes));
    f = field(rec, "tag4");
    char fixed[] = {'\xde', '\xad', '\xbe', '\xef'};
    avro_value_set_fixed(&f, fixed, sizeof(fixed));
    f = field(rec, "active");
    avro_value_set_boolean(&f, 1);
    f = field(rec, "ratio");
    avro_value_set_float(&f, 1.1f);
  });
}

const json kExpectedUser = json::parse(R"({
  "nickname": "Zoë", "maybe": null, "count": 9007199254740993, "age": -42,
  "address": {"city": "Billings", "zip": 63104},
  "tags": ["a", "b"], "scores": {"x": 1.5, "y": -2.0}, "colour": "BLUE",
  "blob": "AAH/", "tag4": "3q2+7w==", "active": true, "ratio": 1.1})");

/// A registry that knows `schemas` and answers not_found for any other id.
SchemaLookup registry(std::map<int, std::string> schemas) {
  return [schemas = std::move(schemas)](int id) -> base::Result<std::string> {
    auto it = schemas.find(id);
    if (it == schemas.end()) {
      return base::make_error(base::Errc::not_found, "no schema " + std::to_string(id));
    }
    return it->second;
  };
}

RawMessage message(std::optional<std::string> value, std::optional<std::string> key = {}) {
  RawMessage m;
  m.offset = 7;
  m.timestamp_ms = 1714564800123;  // 2024-05-01T12:00:00.123Z
  m.key = std::move(key);
  m.value = std::move(value);
  return m;
}

/// decode_message's answer, also dumped: the server dumps it, and dump() throws on bad UTF-8.
json decode(const RawMessage& m, const SchemaLookup& lookup = registry({})) {
  json out = decode_message(m, lookup);
  EXPECT_NO_THROW((void)out.dump());
  return out;
}

TEST(WireSchemaId, ReadsTheBigEndianIdAfterTheMagicByte) {
  EXPECT_EQ(wire_schema_id(framed(0x01020304, "")), 0x01020304);
  EXPECT_EQ(wire_schema_id(framed(42, "\x02")), 42);
  EXPECT_EQ(wire_schema_id(framed(0xFFFFFFFF, "")), -1);
  EXPECT_EQ(wire_schema_id(std::string("\0\0\0\x01", 4)), std::nullopt);  // too short
  EXPECT_EQ(wire_schema_id("\x01\0\0\0\x01x"), std::nullopt);             // not magic byte 0
  EXPECT_EQ(wire_schema_id("{\"a\":1}"), std::nullopt);
  EXPECT_EQ(wire_schema_id(""), std::nullopt);
}

TEST(AvroToJson, DecodesEveryKindOfValue) {
  auto out = avro_to_json(encode_user(), kUserSchema);
  ASSERT_TRUE(out.ok()) << out.error().describe();
  EXPECT_EQ(*out, kExpectedUser) << out->dump();
}

TEST(AvroToJson, DecodesATopLevelPrimitive) {
  const std::string schema = R"("string")";
  auto out = avro_to_json(
      avro_encode(schema, [](avro_value_t* v) { avro_value_set_string(v, "plain"); }), schema);
  ASSERT_TRUE(out.ok()) << out.error().describe();
  EXPECT_EQ(*out, json("plain"));
}

TEST(AvroToJson, ReplacesInvalidUtf8InAStringSoThatItCanBeDumped) {
  const std::string schema = R"({"type": "map", "values": "string"})";
  auto out = avro_to_json(avro_encode(schema,
                                      [](avro_value_t* v) {
                                        avro_value_t item;
                                        avro_value_add(v, "k\xff", &item, nullptr, nullptr);
                                        avro_value_set_string(&item, "a\xc3(b");
                                      }),
                          schema);
  ASSERT_TRUE(out.ok()) << out.error().describe();
  EXPECT_EQ(out->dump(), "{\"k\xEF\xBF\xBD\":\"a\xEF\xBF\xBD(b\"}");
}

TEST(AvroToJson, RefusesABadSchemaShortBytesAndLeftOverBytes) {
  const std::string user = encode_user();

  auto bad_schema = avro_to_json(user, R"({"type": "record", "name": "X", "fields": 3})");
  ASSERT_FALSE(bad_schema.ok());
  EXPECT_EQ(bad_schema.error().code, base::Errc::data_error);
  EXPECT_TRUE(bad_schema.error().message.starts_with("the writer schema does not parse: "))
      << bad_schema.error().message;

  auto cut = avro_to_json(std::string_view(user).substr(0, user.size() - 3), kUserSchema);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, base::Errc::data_error);
  EXPECT_TRUE(cut.error().message.starts_with("the bytes do not match the writer schema: "))
      << cut.error().message;

  auto extra = avro_to_json(user + "zz", kUserSchema);
  ASSERT_FALSE(extra.ok());
  EXPECT_EQ(extra.error().code, base::Errc::data_error);
  EXPECT_EQ(extra.error().message,
            fmt::format("2 of {} bytes left after the value: the writer schema is not the one "
                        "the bytes were written with",
                        user.size() + 2));

  auto empty = avro_to_json("", kUserSchema);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, base::Errc::data_error);
}

TEST(AvroToJson, RefusesBytesThatClaimMoreThanThereIsBeforeLibavroReadsThem) {
  // A string claiming 2^62 bytes: libavro would allocate it first (and leak it on failure).
  auto huge = avro_to_json("\xfe\xff\xff\xff\xff\xff\xff\xff\x7f", R"("string")");
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().message,
            "the bytes do not match the writer schema: a string or bytes of "
            "4611686018427387903 bytes with 0 left (at byte 9)");

  const std::string colours = R"({"type": "enum", "name": "C", "symbols": ["RED", "GREEN"]})";
  auto enum_out = avro_to_json("\x04", colours);  // index 2 of 2
  ASSERT_FALSE(enum_out.ok());
  EXPECT_EQ(enum_out.error().message,
            "the bytes do not match the writer schema: an enum index 2 of 2 (at byte 1)");

  auto branch_out = avro_to_json("\x04", R"(["null", "string"])");
  ASSERT_FALSE(branch_out.ok());
  EXPECT_EQ(branch_out.error().message,
            "the bytes do not match the writer schema: a union index 2 of 2 (at byte 1)");

  // Eight million nulls in four bytes.
  auto nulls = avro_to_json("\x80\x80\xe8\x07\x00", R"({"type": "array", "items": "null"})");
  ASSERT_FALSE(nulls.ok());
  EXPECT_EQ(nulls.error().message,
            "the bytes do not match the writer schema: a block of 8192000 items (at byte 4)");
}

TEST(AvroToJson, RefusesARecursiveValueNestedTooDeep) {
  const std::string list = R"({"type": "record", "name": "L", "fields": [
      {"name": "v", "type": "int"}, {"name": "next", "type": ["null", "L"]}]})";
  std::string bytes;  // v=1, next=branch 1 (another L) ... then v=1, next=null
  for (int i = 0; i < 2; ++i) bytes += "\x02\x02";
  bytes += std::string("\x02\x00", 2);
  auto shallow = avro_to_json(bytes, list);
  ASSERT_TRUE(shallow.ok()) << shallow.error().describe();
  EXPECT_EQ(*shallow, json::parse(R"({"v": 1, "next": {"v": 1, "next": {"v": 1, "next": null}}})"));

  for (int i = 0; i < 100000; ++i) bytes.insert(0, "\x02\x02");
  auto deep = avro_to_json(bytes, list);
  ASSERT_FALSE(deep.ok());
  EXPECT_TRUE(deep.error().message.starts_with(
      "the bytes do not match the writer schema: the value nests deeper than 64 levels"))
      << deep.error().message;
}

TEST(DecodeMessage, AvroValueWithTextKeyAndHeaders) {
  const std::string hashed(64, 'a');  // looks like the pipeline's hash: kept
  RawMessage m = message(framed(258, encode_user()), "user-1");
  m.headers = {{"source", "ingest"},    {"trace", std::string("\x00\xff", 2)},
               {"empty", std::nullopt}, {"Password", "hunter2"},
               {"ssn", "123-45-6789"},  {"nino", hashed}};
  const json out = decode(m, registry({{258, kUserSchema}}));
  json headers = json::parse(R"j([
      {"key": "source", "value": "ingest", "value_encoding": "text"},
      {"key": "trace", "value": "AP8=", "value_encoding": "binary"},
      {"key": "empty", "value": null, "value_encoding": "null"},
      {"key": "ssn", "value": "(redacted)", "value_encoding": "text"}])j");
  headers.push_back({{"key", "nino"}, {"value", hashed}, {"value_encoding", "text"}});
  const json expected = {{"offset", 7},
                         {"timestamp", "2024-05-01T12:00:00.123Z"},
                         {"key", "user-1"},
                         {"key_encoding", "text"},
                         {"value", kExpectedUser},
                         {"value_encoding", "avro"},
                         {"schema_id", 258},
                         {"headers", headers}};
  EXPECT_EQ(out, expected) << out.dump(2);
}

TEST(DecodeMessage, AvroKeyAndValueEachThroughTheirSchema) {
  const std::string key_schema = R"({"type": "record", "name": "Key",
      "fields": [{"name": "user_id", "type": "string"}]})";
  const std::string key = avro_encode(key_schema, [](avro_value_t* rec) {
    avro_value_t f = field(rec, "user_id");
    avro_value_set_string(&f, "7a0eed16");
  });
  const json out = decode(message(framed(2, encode_user()), framed(1, key)),
                          registry({{1, key_schema}, {2, kUserSchema}}));
  EXPECT_EQ(out["key"], json::parse(R"({"user_id": "7a0eed16"})"));
  EXPECT_EQ(out["key_encoding"], "avro");
  EXPECT_EQ(out["value"], kExpectedUser);
  EXPECT_EQ(out["schema_id"], 2);  // the value's, not the key's
  EXPECT_FALSE(out.contains("error"));
}

TEST(DecodeMessage, JsonValueAndJsonKey) {
  const json out = decode(message(R"( {"a": 1, "b": [true, null, "x"]} )", "42"));
  EXPECT_EQ(out["value"], json::parse(R"({"a": 1, "b": [true, null, "x"]})"));
  EXPECT_EQ(out["value_encoding"], "json");
  EXPECT_EQ(out["key"], json(42));  // a key that is JSON text is JSON
  EXPECT_EQ(out["key_encoding"], "json");
  EXPECT_EQ(out["schema_id"], json(nullptr));
  EXPECT_FALSE(out.contains("error"));
}

TEST(DecodeMessage, PlainUtf8IsText) {
  const json out = decode(message("hello wörld {not json", ""));
  EXPECT_EQ(out["value"], "hello wörld {not json");
  EXPECT_EQ(out["value_encoding"], "text");
  EXPECT_EQ(out["key"], "");  // zero bytes are not null
  EXPECT_EQ(out["key_encoding"], "text");
}

TEST(DecodeMessage, BytesThatAreNotUtf8AreBase64) {
  const json out = decode(message(std::string("\xff\xfe\x00\x01", 4), "\xc0\xaf"));
  EXPECT_EQ(out["value"], "//4AAQ==");
  EXPECT_EQ(out["value_encoding"], "binary");
  EXPECT_EQ(out["key"], "wK8=");  // an overlong '/' is not UTF-8
  EXPECT_EQ(out["key_encoding"], "binary");
  EXPECT_FALSE(out.contains("error"));
}

TEST(DecodeMessage, UnknownSchemaFallsBackToBinaryAndSaysWhy) {
  const std::string bytes = framed(7, encode_user());
  const json out = decode(message(bytes), registry({{8, kUserSchema}}));
  const json binary = decode(message("\xff" + bytes.substr(1)));
  EXPECT_EQ(out["value_encoding"], "binary");
  EXPECT_EQ(out["value"].get<std::string>().substr(0, 8),
            "AAAAAAcC");  // 00, 00000007, 02 (the union branch)
  EXPECT_EQ(out["value"].get<std::string>().size(), binary["value"].get<std::string>().size());
  EXPECT_EQ(out["schema_id"], 7);
  EXPECT_EQ(out["error"], "value: schema id 7: no schema 7");
}

TEST(DecodeMessage, AvroThatDoesNotDecodeFallsBackToBinaryAndSaysWhy) {
  const json out = decode(message(framed(5, "\x02"), framed(6, "")),
                          registry({{5, kUserSchema}, {6, R"({"type": "nope"})"}}));
  EXPECT_EQ(out["value"], "AAAAAAUC");
  EXPECT_EQ(out["value_encoding"], "binary");
  EXPECT_EQ(out["key"], "AAAAAAY=");
  EXPECT_EQ(out["key_encoding"], "binary");
  const std::string error = out["error"];
  EXPECT_TRUE(error.starts_with("key: Avro with schema id 6: the writer schema does not parse: "))
      << error;
  EXPECT_NE(error.find("; value: Avro with schema id 5: the bytes do not match the writer "
                       "schema: "),
            std::string::npos)
      << error;
}

TEST(DecodeMessage, ALookupThatThrowsOrIsMissingIsAnErrorNotAnException) {
  const SchemaLookup throwing = [](int) -> base::Result<std::string> {
    throw std::runtime_error("connection reset");
  };
  json out;
  ASSERT_NO_THROW(out = decode_message(message(framed(3, "")), throwing));
  EXPECT_EQ(out["value_encoding"], "binary");
  EXPECT_EQ(out["error"], "value: schema id 3: the schema lookup failed: connection reset");

  out = decode(message(framed(3, "")), SchemaLookup{});
  EXPECT_EQ(out["value_encoding"], "binary");
  EXPECT_EQ(out["error"], "value: schema id 3: no schema registry to look it up in");
}

TEST(DecodeMessage, TombstoneHasANullValue) {
  RawMessage m = message(std::nullopt, "user-1");
  m.timestamp_ms = -1;
  const json out = decode(m);
  const json expected = {{"offset", 7},          {"timestamp", nullptr},
                         {"key", "user-1"},      {"key_encoding", "text"},
                         {"value", nullptr},     {"value_encoding", "null"},
                         {"schema_id", nullptr}, {"headers", json::array()}};
  EXPECT_EQ(out, expected) << out.dump(2);
}

TEST(DecodeMessage, CredentialsAreDroppedAndNationalIdsRedactedAtAnyDepth) {
  const std::string hashed = "hmac-sha256:" + std::string(64, 'f');
  json value = json::parse(R"j({
    "password": "top", "user": {"login": {"uuid": "u1", "password": "hunter2", "salt": "s",
      "sha256": "x", "password_hash": "y"}},
    "list": [{"deep": [{"Password": "z", "keep": 1}]}],
    "ssn": "123-45-6789", "NINO": 123456789, "tfn": "", "bsn": null,
    "dni": "hmac-sha256:12345678",
    "national_id": {"value": "X1", "issued": 2001},
    "id": {"name": "SSN", "value": "405-88-3636"},
    "name": "Jennie"})j");
  value["cpf"] = hashed;
  const json out = decode(message(value.dump()));
  json expected = json::parse(R"j({
    "user": {"login": {"uuid": "u1"}},
    "list": [{"deep": [{"keep": 1}]}],
    "ssn": "(redacted)", "NINO": "(redacted)", "tfn": "", "bsn": null,
    "dni": "(redacted)",
    "national_id": {"value": "(redacted)", "issued": "(redacted)"},
    "id": {"name": "SSN", "value": "(redacted)"},
    "name": "Jennie"})j");
  expected["cpf"] = hashed;
  EXPECT_EQ(out["value"], expected) << out["value"].dump(2);
  EXPECT_EQ(out["value_encoding"], "json");
  EXPECT_EQ(out.dump().find("hunter2"), std::string::npos);
  EXPECT_EQ(out.dump().find("6789"), std::string::npos);
}

TEST(DecodeMessage, CredentialsInAvroAreDroppedToo) {
  const std::string schema = R"({"type": "record", "name": "Row", "fields": [
      {"name": "user_id", "type": "string"},
      {"name": "password", "type": ["null", "string"]},
      {"name": "ssn", "type": ["null", "string"]},
      {"name": "extra", "type": {"type": "map", "values": "string"}}]})";
  const std::string avro = avro_encode(schema, [](avro_value_t* rec) {
    avro_value_t f = field(rec, "user_id");
    avro_value_set_string(&f, "u1");
    f = field(rec, "password");
    avro_value_t b = branch(&f, 1);
    avro_value_set_string(&b, "hunter2");
    f = field(rec, "ssn");
    b = branch(&f, 1);
    avro_value_set_string(&b, "123-45-6789");
    f = field(rec, "extra");
    avro_value_t item;
    avro_value_add(&f, "sha1", &item, nullptr, nullptr);
    avro_value_set_string(&item, "abc");
    avro_value_add(&f, "city", &item, nullptr, nullptr);
    avro_value_set_string(&item, "Oslo");
  });
  const json out = decode(message(framed(9, avro)), registry({{9, schema}}));
  EXPECT_EQ(out["value_encoding"], "avro");
  const json expected =
      json::parse(R"j({"user_id": "u1", "ssn": "(redacted)", "extra": {"city": "Oslo"}})j");
  EXPECT_EQ(out["value"], expected) << out["value"].dump();
}

TEST(DecodeMessage, JsonNestedTooDeepIsNotShown) {
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  const json out = decode(message(deep));
  EXPECT_EQ(out["value"], json(nullptr));
  EXPECT_EQ(out["value_encoding"], "json");
  EXPECT_EQ(out["error"], "value: JSON nested deeper than 64 levels is not shown");

  const std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_EQ(decode(message(ok))["value"].dump(), ok);
  // Brackets inside strings do not count.
  EXPECT_EQ(decode(message("\"" + deep + "\""))["value"], json(deep));
}

TEST(ReadLastMessages, RefusesBadArgumentsBeforeConnecting) {
  for (int limit : {0, -1, 501}) {
    auto r = read_last_messages("127.0.0.1:1", "t", 0, limit);
    ASSERT_FALSE(r.ok()) << limit;
    EXPECT_EQ(r.error().code, base::Errc::invalid_argument);
  }
  auto r = read_last_messages("127.0.0.1:1", "t", -1, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, base::Errc::invalid_argument);
}

TEST(ReadLastMessages, AShortWindowIsReadAgainFromAtLeastTwiceAsFarBackButNotBeforeTheStart) {
  // 5 asked of offsets [95, 100), 3 found (two commit markers): back 5 + 2, from 88.
  EXPECT_EQ(earlier_start(0, 100, 95, 3, 5), 88);
  // Then [88, 100) gave 4: back 12 + 1.
  EXPECT_EQ(earlier_start(0, 100, 88, 4, 5), 75);
  // Never before the low watermark, and always back by at least one.
  EXPECT_EQ(earlier_start(80, 100, 88, 4, 5), 80);
  EXPECT_EQ(earlier_start(0, 100, 99, 5, 5), 97);
}

TEST(ReadLastMessages, UnreachableBrokerIsUnavailable) {
  auto r = read_last_messages("127.0.0.1:1", "t", 0, 10, 1000);  // nothing listens on port 1
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, base::Errc::unavailable) << r.error().describe();
}

}  // namespace
}  // namespace streamflow::control

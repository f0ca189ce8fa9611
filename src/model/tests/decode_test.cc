#include "model/decode.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "model/text.h"

namespace streamflow::model {
namespace {

const IdHasher kHasher("unit-test-key");

std::string record(const std::string& overrides) {
  return R"({"gender":"female","name":{"title":"Miss","first":"Jennie","last":"Nichols"},)"
         R"("location":{"street":{"number":8929,"name":"Valwood Pkwy"},"city":"Billings","state":"Michigan",)"
         R"("country":"United States","postcode":"63104","coordinates":{"latitude":"-69.8246","longitude":"134.8719"},)"
         R"("timezone":{"offset":"+9:30","description":"Adelaide, Darwin"}},"email":"jennie.nichols@example.com",)"
         R"("login":{"uuid":"7a0eed16-9430-4d68-901f-c0d4c1c3bf00","username":"yellowpeacock117","password":"addison",)"
         R"("salt":"sld1yGtd","md5":"ab54ac4c0be9480ae8fa5e9e2a5196a3","sha1":"edcf2ce613cbdea349133c52dc2f3b83168dc51b",)"
         R"("sha256":"48df5229235ada28389b91e60a935e4f9b73eb4bdb855ef9258a1751f10bdc5d"},)"
         R"("dob":{"date":"1992-03-08T15:13:16.688Z","age":30},"registered":{"date":"2007-07-09T05:51:59.390Z","age":14},)"
         R"("phone":"(272) 790-0888","cell":"(489) 330-2385","id":{"name":"SSN","value":"405-88-3636"},)"
         R"("picture":{"large":"https://randomuser.me/api/portraits/women/75.jpg"},"nat":"US")" +
         overrides + "}";
}

TEST(Decode, ValidRecordHasNoCredentialAndAHashedId) {
  auto batch =
      decode_response(R"({"results":[)" + record("") +
                          R"(],"info":{"seed":"abc","results":1,"page":3,"version":"1.4"}})",
                      kHasher);
  ASSERT_TRUE(batch.ok()) << batch.error().describe();
  ASSERT_EQ(batch->users.size(), 1u);
  const User& u = batch->users[0];
  EXPECT_EQ(u.uuid, "7a0eed16-9430-4d68-901f-c0d4c1c3bf00");
  EXPECT_EQ(u.postcode, "63104");
  EXPECT_EQ(u.street_number, 8929);
  EXPECT_EQ(u.id_hash, kHasher.hash("405-88-3636"));
  EXPECT_NE(*u.id_hash, "405-88-3636");
  EXPECT_EQ(batch->api_version, "1.4");
  EXPECT_EQ(batch->page, 3);
  EXPECT_EQ(batch->records, 1u);
}

TEST(Decode, RejectPayloadCarriesNoCredentialAndNoClearNationalId) {
  // Invalid (bad email), and with credentials hidden at odd places too.
  auto bad = record(R"(,"email":"nope","extra":{"password":"hunter2","deep":{"sha1":"x"}})");
  // The duplicate "email" key: simdjson's at_key returns the first, so make the first one bad.
  bad.replace(bad.find(R"("email":"jennie.nichols@example.com")"), 36,
              R"("email":"not-an-email.example.com")");
  auto batch = decode_response(R"({"results":[)" + bad + "]}", kHasher);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->rejects.size(), 1u);
  const Reject& r = batch->rejects[0];
  EXPECT_EQ(r.reason, "email: not an email address: 'not-an-email.example.com'");
  EXPECT_EQ(r.uuid, "7a0eed16-9430-4d68-901f-c0d4c1c3bf00");
  for (const char* secret :
       {"addison", "sld1yGtd", "ab54ac4c0be9480ae8fa5e9e2a5196a3",
        "edcf2ce613cbdea349133c52dc2f3b83168dc51b",
        "48df5229235ada28389b91e60a935e4f9b73eb4bdb855ef9258a1751f10bdc5d", "hunter2",
        "405-88-3636", "\"password\"", "\"salt\"", "\"md5\"", "\"sha1\"", "\"sha256\""}) {
    EXPECT_EQ(r.raw.find(secret), std::string::npos) << secret << " leaked into " << r.raw;
  }
  EXPECT_NE(r.raw.find("hmac-sha256:" + kHasher.hash("405-88-3636")), std::string::npos);
  EXPECT_NE(r.raw.find("\"username\":\"yellowpeacock117\""), std::string::npos);
}

TEST(Decode, LoginThatIsNotAnObjectIsRemovedFromTheRejectPayload) {
  auto batch = decode_response(R"({"results":[{"login":"password=hunter2","nat":"US"}]})", kHasher);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->rejects.size(), 1u);
  EXPECT_EQ(batch->rejects[0].raw.find("hunter2"), std::string::npos);
}

TEST(Decode, RejectPayloadKeepsAnExcerptOfAHugeField) {
  // 1 MB of two-byte characters: the excerpt is cut on a character boundary.
  std::string huge = "a";  // odd: byte 1024 is the middle of a character
  for (int i = 0; i < 500000; ++i) huge += "\xc3\xa9";
  auto batch = decode_response(
      R"({"results":[{"name":{"first":")" + huge + R"(","last":"X"},"nat":"FR"}]})", kHasher);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->rejects.size(), 1u);
  const Reject& r = batch->rejects[0];
  EXPECT_LT(r.raw.size(), 2000u) << r.raw.size();
  EXPECT_NE(r.raw.find("\xa9...[1000001 bytes in all]"), std::string::npos);
  EXPECT_NE(r.raw.find("\"last\":\"X\""), std::string::npos);
  EXPECT_EQ(r.raw.find("\xc3..."), std::string::npos);  // no half character before the marker
}

TEST(Decode, WholeDocumentFailuresAreErrorsNotRejects) {
  EXPECT_EQ(decode_response("{\"results\":[", kHasher).error().code, base::Errc::invalid_argument);
  auto api_error = decode_response(R"({"error":"Uh oh, something has gone wrong."})", kHasher);
  ASSERT_FALSE(api_error.ok());
  EXPECT_EQ(api_error.error().code, base::Errc::unavailable);
  // Each message names what was found.
  auto text = decode_response(R"("just a string")", kHasher);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().message,
            "response is a JSON string, expected an object with a results array, an array of "
            "result objects or JSON Lines");
  auto info_only = decode_response(R"({"info":{"seed":"x"},"page":1})", kHasher);
  ASSERT_FALSE(info_only.ok());
  EXPECT_EQ(info_only.error().message,
            "response has no results array (a JSON object with keys: info, page)");
  auto bad_results = decode_response(R"({"results":{"a":1}})", kHasher);
  ASSERT_FALSE(bad_results.ok());
  EXPECT_EQ(bad_results.error().message,
            "response has no results array: \"results\" is a JSON object");
  EXPECT_EQ(decode_response(" \n\t", kHasher).error().message, "response is empty");
  EXPECT_EQ(decode_response("\xEF\xBB\xBF", kHasher).error().message, "response is empty");
}

// ---- framings: what people saved -------------------------------------------------------

TEST(Decode, EveryFramingOfTheSameRecordsGivesTheSameUsers) {
  const std::string a = record(""), b = record("");
  std::string b2 = b;
  b2.replace(b2.find("7a0eed16"), 8, "0000beef");
  const std::vector<std::pair<std::string, Framing>> bodies = {
      {R"({"results":[)" + a + "," + b2 + R"(],"info":{"seed":"s","page":1}})", Framing::envelope},
      {"[" + a + "," + b2 + "]", Framing::array},
      {a + "\n" + b2 + "\n", Framing::json_lines},
      {"\xEF\xBB\xBF\r\n  [" + a + ",\n" + b2 + "]  \r\n", Framing::array},
      {"\xEF\xBB\xBF" + a + "\r\n\r\n" + b2, Framing::json_lines},
      {std::string("\n\n ") + R"({"results":[)" + a + "," + b2 + "]}\n", Framing::envelope},
  };
  for (const auto& [body, framing] : bodies) {
    auto batch = decode_response(body, kHasher);
    ASSERT_TRUE(batch.ok()) << batch.error().describe() << " in " << body.substr(0, 40);
    EXPECT_EQ(batch->framing, framing) << to_string(batch->framing);
    ASSERT_EQ(batch->users.size(), 2u) << body.substr(0, 40);
    EXPECT_EQ(batch->users[0].uuid, "7a0eed16-9430-4d68-901f-c0d4c1c3bf00");
    EXPECT_EQ(batch->users[1].uuid, "0000beef-9430-4d68-901f-c0d4c1c3bf00");
    EXPECT_EQ(batch->records, 2u);
  }
}

TEST(Decode, ASingleResultObjectIsOneRecord) {
  auto batch = decode_response(record(""), kHasher);
  ASSERT_TRUE(batch.ok()) << batch.error().describe();
  EXPECT_EQ(batch->framing, Framing::json_lines);
  EXPECT_EQ(batch->users.size(), 1u);
}

TEST(Decode, AJsonLinesLineThatIsNotJsonFailsTheWholeFileNamingTheLine) {
  auto batch = decode_response(record("") + "\n" + record("") + "\n{\"login\": {\"uuid\"", kHasher);
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.error().code, base::Errc::invalid_argument);
  EXPECT_NE(batch.error().message.find("JSON Lines: line 3 is not valid JSON"), std::string::npos)
      << batch.error().message;
}

TEST(Decode, AJsonLinesLineThatIsNotAnObjectIsARejectLikeInAnArray) {
  auto batch = decode_response(record("") + "\n\"just text\"\n", kHasher);
  ASSERT_TRUE(batch.ok()) << batch.error().describe();
  ASSERT_EQ(batch->rejects.size(), 1u);
  EXPECT_EQ(batch->rejects[0].index, 1u);
  EXPECT_EQ(batch->rejects[0].reason, "record: expected an object, got string");
}

TEST(Decode, EmptyArrayIsAValidEmptyBatch) {
  auto batch = decode_response("[]", kHasher);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->framing, Framing::array);
  EXPECT_EQ(batch->records, 0u);
}

// ---- fields: only the uuid is required --------------------------------------------------

TEST(Decode, AnIncFilteredRecordIsAUserWithNullsWhereItHasNoFields) {
  // inc=gender,name,location,email,login,phone,picture: no dob, cell, id, nat, registered.
  auto batch = decode_response(
      R"([{"gender":"male","name":{"first":"Ali","last":"Veli"},"login":{"uuid":"7a0eed16-9430-4d68-901f-c0d4c1c3bf00"},)"
      R"("location":{"country":"Turkey"},"email":"a@example.com","phone":"1","picture":{}}])",
      kHasher);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->users.size(), 1u) << batch->rejects[0].reason;
  const User& u = batch->users[0];
  EXPECT_EQ(u.gender, "male");
  EXPECT_EQ(u.country, "Turkey");
  EXPECT_FALSE(u.dob);
  EXPECT_FALSE(u.nat);
  EXPECT_FALSE(u.cell);
  EXPECT_FALSE(u.id_hash);
  EXPECT_FALSE(u.registered);
  // ... and the barest record there is.
  auto bare =
      decode_response(R"([{"login":{"uuid":"7A0EED16-9430-4D68-901F-C0D4C1C3BF00"}}])", kHasher);
  ASSERT_TRUE(bare.ok());
  ASSERT_EQ(bare->users.size(), 1u);
  EXPECT_EQ(bare->users[0].uuid, "7a0eed16-9430-4d68-901f-c0d4c1c3bf00");
  EXPECT_FALSE(bare->users[0].gender);
  EXPECT_FALSE(bare->users[0].email);
}

TEST(Decode, APresentFieldMustStillBeWellFormed) {
  auto batch = decode_response(
      R"([{"login":{"uuid":"7a0eed16-9430-4d68-901f-c0d4c1c3bf00"},"gender":"other"},)"
      R"({"login":{"uuid":"7a0eed16-9430-4d68-901f-c0d4c1c3bf01"},"dob":{"date":"yesterday"}},)"
      R"({"name":{"first":"No","last":"Uuid"}}])",
      kHasher);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->rejects.size(), 3u);
  EXPECT_EQ(batch->rejects[0].reason, "gender: expected male or female, got 'other'");
  EXPECT_EQ(batch->rejects[1].reason, "dob.date: not an ISO 8601 timestamp: 'yesterday'");
  EXPECT_EQ(batch->rejects[2].reason, "login.uuid: missing");
}

// ---- legacy shapes ------------------------------------------------------------------------

TEST(Decode, APre10WrappedRecordIsMappedThenRejectedForItsMissingUuidWithNoIdInClear) {
  // As API 0.4.1 served it: {"user": {...}, "seed": ...}, credentials and SSN at the top.
  const std::string legacy =
      R"({"results":[{"user":{"gender":"male","name":{"title":"mr","first":"ritthy","last":"mendoza"},)"
      R"("location":{"street":"9791 robinson rd","city":"vernon","state":"idaho","zip":"36531"},)"
      R"("email":"ritthy.mendoza70@example.com","username":"orangewolf692","password":"secrets",)"
      R"("salt":"WN0OWvIc","md5":"f386e1203a31d6b397ec538f161d6332","sha1":"188ae5ee139fe789d20207ba27ac87ea6757f3e1",)"
      R"("sha256":"176ed291eaf2f7906a053a97761b59e57a17f1444376860bb0d85917a09fbc1e","registered":"1138571847",)"
      R"("dob":"353497588","phone":"(837)-192-1272","cell":"(744)-279-6420","SSN":"287-56-2054",)"
      R"("picture":{"large":"http://api.randomuser.me/portraits/men/64.jpg"},"version":"0.4.1"},"seed":"06881b8ab932f441"}]})";
  auto batch = decode_response(legacy, kHasher);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->rejects.size(), 1u);
  const Reject& r = batch->rejects[0];
  EXPECT_EQ(r.reason,
            "login.uuid: missing (API versions before 1.2 served no uuid; a user cannot be "
            "identified without one)");
  for (const char* secret :
       {"287-56-2054", "secrets", "WN0OWvIc", "f386e1203a31d6b397ec538f161d6332", "\"password\"",
        "\"salt\"", "\"md5\""}) {
    EXPECT_EQ(r.raw.find(secret), std::string::npos) << secret << " in " << r.raw;
  }
  EXPECT_NE(r.raw.find("\"SSN\":\"hmac-sha256:" + kHasher.hash("287-56-2054") + "\""),
            std::string::npos)
      << r.raw;
  EXPECT_NE(r.raw.find("\"username\":\"orangewolf692\""), std::string::npos);
}

TEST(Decode, LegacyFieldsAreMappedWithoutGuessing) {
  // A wrapped record that does have a uuid: every legacy field has its modern place.
  auto batch = decode_response(
      R"([{"user":{"gender":"female","login":{"uuid":"7a0eed16-9430-4d68-901f-c0d4c1c3bf00"},)"
      R"("location":{"street":"3987 park road","zip":"CI5P 3BB"},"username":"smallostrich534",)"
      R"("registered":"1378179821","dob":-86400,"NINO":"BT 31 46 94 N","nationality":"GB"},"seed":"a1"}])",
      kHasher);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->users.size(), 1u) << batch->rejects[0].reason;
  const User& u = batch->users[0];
  EXPECT_EQ(u.street_name, "3987 park road");  // kept whole: no guess at the number
  EXPECT_FALSE(u.street_number);
  EXPECT_EQ(u.postcode, "CI5P 3BB");
  EXPECT_EQ(u.username, "smallostrich534");
  EXPECT_EQ(u.registered, "2013-09-03T03:43:41Z");
  EXPECT_EQ(u.dob, "1969-12-31T00:00:00Z");
  EXPECT_EQ(u.id_name, "NINO");
  EXPECT_EQ(u.id_hash, kHasher.hash("BT 31 46 94 N"));
  EXPECT_EQ(u.nat, "GB");
}

TEST(Decode, Api10And11RecordsAreRejectedForTheirMissingUuid) {
  auto batch = decode_response(
      R"({"results":[{"gender":"male","login":{"username":"x","password":"p"},"dob":932871968,"nat":"US"},)"
      R"({"gender":"male","login":{"username":"y"},"dob":"1983-07-14 07:29:45","nat":"NL",)"
      R"("id":{"name":"BSN","value":"04242023"}}],"info":{"version":"1.1"}})",
      kHasher);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->rejects.size(), 2u);
  for (const auto& r : batch->rejects) {
    EXPECT_EQ(r.reason,
              "login.uuid: missing (API versions before 1.2 served no uuid; a user cannot be "
              "identified without one)");
  }
  EXPECT_EQ(batch->rejects[1].raw.find("04242023"), std::string::npos);
}

// ---- sanitising by meaning ----------------------------------------------------------------

TEST(Decode, NationalIdsAndCredentialsAreSanitisedAtAnyDepthUnderAnyName) {
  auto batch = decode_response(
      R"([{"login":{"uuid":"bad"},"notes":[{"id":{"name":"TFN","value":123456782}},)"
      R"({"Tfn":"876543210","profile":{"hetu":"131052-308T","Password_Hash":"h1","pwhash":"h2",)"
      R"("md5_hash":"h3","sha1_hash":"h4","SALT":"h5","id":"998877"}}]}])",
      kHasher);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->rejects.size(), 1u);
  const std::string& raw = batch->rejects[0].raw;
  for (const char* clear : {"123456782", "876543210", "131052-308T", "998877", "\"h1\"", "\"h2\"",
                            "\"h3\"", "\"h4\"", "\"h5\""}) {
    EXPECT_EQ(raw.find(clear), std::string::npos) << clear << " in " << raw;
  }
  EXPECT_NE(raw.find("\"value\":\"hmac-sha256:" + kHasher.hash("123456782") + "\""),
            std::string::npos)
      << raw;
  EXPECT_NE(raw.find("\"Tfn\":\"hmac-sha256:" + kHasher.hash("876543210") + "\""),
            std::string::npos)
      << raw;
  EXPECT_NE(raw.find("\"name\":\"TFN\""), std::string::npos) << raw;  // which id: kept
}

TEST(Decode, EpochSecondsBecomeTimestamps) {
  EXPECT_EQ(epoch_seconds_to_iso("0"), "1970-01-01T00:00:00Z");
  EXPECT_EQ(epoch_seconds_to_iso("353497588"), "1981-03-15T09:46:28Z");
  EXPECT_EQ(epoch_seconds_to_iso("-1"), "1969-12-31T23:59:59Z");
  EXPECT_EQ(epoch_seconds_to_iso("951782400"), "2000-02-29T00:00:00Z");
  EXPECT_FALSE(epoch_seconds_to_iso("12a"));
  EXPECT_FALSE(epoch_seconds_to_iso(""));
  EXPECT_FALSE(epoch_seconds_to_iso("999999999999"));  // past year 9999
}

TEST(Decode, NumbersOutsideTheColumnRangeAreRejectedNotFatal) {
  auto rec = record("");
  const std::string dob = R"("age":30})";
  rec.replace(rec.find(dob), dob.size(), R"("age":99999999999})");
  auto batch = decode_response(R"({"results":[)" + rec + "]}", kHasher);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->rejects.size(), 1u);
  EXPECT_EQ(batch->rejects[0].reason, "dob.age: out of range (0..200): 99999999999");
}

TEST(Decode, HashIsKeyed) {
  EXPECT_NE(IdHasher("k1").hash("405-88-3636"), IdHasher("k2").hash("405-88-3636"));
  EXPECT_EQ(IdHasher("k1").hash("405-88-3636").size(), 64u);
}

}  // namespace
}  // namespace streamflow::model

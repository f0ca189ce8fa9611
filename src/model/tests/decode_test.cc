#include "model/decode.h"

#include <gtest/gtest.h>

#include <string>

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
  EXPECT_EQ(decode_response("[]", kHasher).error().code, base::Errc::invalid_argument);
  auto api_error = decode_response(R"({"error":"Uh oh, something has gone wrong."})", kHasher);
  ASSERT_FALSE(api_error.ok());
  EXPECT_EQ(api_error.error().code, base::Errc::unavailable);
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

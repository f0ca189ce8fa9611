// Runs every case of tests/golden/: input.json through decode_response, compared with
// expected.json. The Spark job's tests read the same files.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "model/decode.h"

namespace streamflow::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const IdHasher kGoldenHasher("streamflow-golden-key");  // the key tests/golden/README.md names

template <class T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json to_json(const User& u) {
  return {{"uuid", u.uuid},
          {"gender", opt(u.gender)},
          {"title", opt(u.title)},
          {"first_name", opt(u.first_name)},
          {"last_name", opt(u.last_name)},
          {"street_number", opt(u.street_number)},
          {"street_name", opt(u.street_name)},
          {"city", opt(u.city)},
          {"state", opt(u.state)},
          {"country", opt(u.country)},
          {"postcode", opt(u.postcode)},
          {"latitude", opt(u.latitude)},
          {"longitude", opt(u.longitude)},
          {"tz_offset", opt(u.tz_offset)},
          {"tz_description", opt(u.tz_description)},
          {"email", opt(u.email)},
          {"username", opt(u.username)},
          {"dob", opt(u.dob)},
          {"dob_age", opt(u.dob_age)},
          {"registered", opt(u.registered)},
          {"registered_age", opt(u.registered_age)},
          {"phone", opt(u.phone)},
          {"cell", opt(u.cell)},
          {"id_name", opt(u.id_name)},
          {"id_hash", opt(u.id_hash)},
          {"picture_large", opt(u.picture_large)},
          {"picture_medium", opt(u.picture_medium)},
          {"picture_thumbnail", opt(u.picture_thumbnail)},
          {"nat", opt(u.nat)}};
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, DecodesAsExpected) {
  const fs::path dir = fs::path(STREAMFLOW_GOLDEN_DIR) / GetParam();
  const auto expected = json::parse(slurp(dir / "expected.json"));
  auto batch = decode_response(slurp(dir / "input.json"), kGoldenHasher);
  if (!expected["error"].is_null()) {
    ASSERT_FALSE(batch.ok()) << "expected an error containing " << expected["error"];
    EXPECT_NE(batch.error().message.find(expected["error"].get<std::string>()), std::string::npos)
        << batch.error().message;
    return;
  }
  ASSERT_TRUE(batch.ok()) << batch.error().describe();
  std::string got_users;
  for (const auto& u : batch->users) got_users += u.uuid + " ";
  ASSERT_EQ(batch->users.size(), expected["users"].size()) << "decoded: " << got_users;
  for (std::size_t i = 0; i < batch->users.size(); ++i) {
    EXPECT_EQ(to_json(batch->users[i]), expected["users"][i]) << "user #" << i;
  }
  std::string got_rejects;
  for (const auto& r : batch->rejects)
    got_rejects += std::to_string(r.index) + ": " + r.reason + "\n";
  ASSERT_EQ(batch->rejects.size(), expected["rejects"].size()) << got_rejects;
  for (std::size_t i = 0; i < batch->rejects.size(); ++i) {
    EXPECT_EQ(batch->rejects[i].index, expected["rejects"][i]["index"].get<std::size_t>());
    EXPECT_EQ(batch->rejects[i].reason, expected["rejects"][i]["reason"].get<std::string>());
    for (const char* secret : {"sunshine", "Xk2p9Lqa", "\"password\"", "\"sha256\""}) {
      EXPECT_EQ(batch->rejects[i].raw.find(secret), std::string::npos) << secret;
    }
  }
}

std::vector<std::string> cases() {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(STREAMFLOW_GOLDEN_DIR)) {
    if (entry.is_directory()) out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::ValuesIn(cases()),
                         [](const auto& test_case) { return test_case.param; });

TEST(GoldenSet, CoversEveryNationalityTheApiServes) {
  const auto expected =
      json::parse(slurp(fs::path(STREAMFLOW_GOLDEN_DIR) / "valid_every_nationality/expected.json"));
  std::set<std::string> nats;
  for (const auto& u : expected["users"]) nats.insert(u["nat"].get<std::string>());
  EXPECT_EQ(nats,
            (std::set<std::string>{"AU", "BR", "CA", "CH", "DE", "DK", "ES", "FI", "FR", "GB", "IE",
                                   "IN", "IR", "MX", "NL", "NO", "NZ", "RS", "TR", "UA", "US"}));
}

}  // namespace
}  // namespace streamflow::model

#include "config/settings.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "config/catalog.h"

namespace streamflow::config {
namespace {

const std::vector<SettingSpec> kSpecs = {
    {"port", Kind::integer, "5432", "a port", false, 1, 65535},
    {"dir", Kind::path, "data", "a directory"},
    {"verbose", Kind::boolean, "false", "a flag"},
    {"db.password", Kind::string, "", "a secret", true},
    {"db.name", Kind::string, "app", "a name"},
    {"rate", Kind::number, "0.0125", "a rate", false, 0, 1000},
};

class SettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sf-settings-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    sources_.working_dir = "/work";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path write_yaml(const std::string& text) {
    auto p = dir_ / "streamflow.yaml";
    std::ofstream(p) << text;
    return p;
  }
  std::filesystem::path dir_;
  Sources sources_;
};

TEST_F(SettingsTest, DefaultsApplyAndRelativePathsResolveAgainstWorkingDir) {
  auto s = Settings::load(kSpecs, sources_);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->get_int("port"), 5432);
  EXPECT_EQ(s->get_path("dir"), "/work/data");
  EXPECT_FALSE(s->get_bool("verbose"));
  EXPECT_EQ(s->origin("port"), Origin::default_value);
}

TEST_F(SettingsTest, PrecedenceIsDefaultFileEnvFlag) {
  sources_.file = write_yaml("port: 6000\ndb:\n  name: fromfile\ndir: rel\n");
  auto from_file = Settings::load(kSpecs, sources_);
  ASSERT_TRUE(from_file.ok()) << from_file.error().describe();
  EXPECT_EQ(from_file->get_int("port"), 6000);
  EXPECT_EQ(from_file->get("db.name"), "fromfile");
  EXPECT_EQ(from_file->get_path("dir"), dir_ / "rel");  // relative to the file
  EXPECT_EQ(from_file->origin("port"), Origin::file);

  sources_.env["STREAMFLOW_PORT"] = "7000";
  auto from_env = Settings::load(kSpecs, sources_);
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->get_int("port"), 7000);
  EXPECT_EQ(from_env->origin("port"), Origin::environment);

  sources_.overrides = {"port=8000", "verbose=yes"};
  auto from_flag = Settings::load(kSpecs, sources_);
  ASSERT_TRUE(from_flag.ok());
  EXPECT_EQ(from_flag->get_int("port"), 8000);
  EXPECT_TRUE(from_flag->get_bool("verbose"));
  EXPECT_EQ(from_flag->origin("port"), Origin::flag);
  EXPECT_EQ(from_flag->get("db.name"), "fromfile");
}

TEST_F(SettingsTest, BadValuesNameTheSettingAndTheirSource) {
  sources_.env["STREAMFLOW_PORT"] = "70000";
  auto out_of_range = Settings::load(kSpecs, sources_);
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_NE(out_of_range.error().message.find("'port' must be between 1 and 65535"),
            std::string::npos);
  EXPECT_NE(out_of_range.error().context.find("from=env"), std::string::npos);

  sources_.env["STREAMFLOW_PORT"] = "12a";
  EXPECT_FALSE(Settings::load(kSpecs, sources_).ok());

  sources_.env.clear();
  sources_.overrides = {"verbose=maybe"};
  EXPECT_FALSE(Settings::load(kSpecs, sources_).ok());

  sources_.overrides = {"nosuch=1"};
  auto unknown = Settings::load(kSpecs, sources_);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown setting 'nosuch'"), std::string::npos);
}

TEST_F(SettingsTest, SecretsComeOnlyFromTheEnvironmentAndAreNeverPrinted) {
  sources_.overrides = {"db.password=hunter2"};
  auto via_flag = Settings::load(kSpecs, sources_);
  ASSERT_FALSE(via_flag.ok());
  EXPECT_NE(via_flag.error().message.find("STREAMFLOW_DB_PASSWORD"), std::string::npos);

  sources_.overrides.clear();
  sources_.file = write_yaml("db:\n  password: hunter2\n");
  EXPECT_FALSE(Settings::load(kSpecs, sources_).ok());

  sources_.file.reset();
  sources_.env["STREAMFLOW_DB_PASSWORD"] = "hunter2";
  auto via_env = Settings::load(kSpecs, sources_);
  ASSERT_TRUE(via_env.ok());
  EXPECT_EQ(via_env->get("db.password"), "hunter2");
  EXPECT_EQ(via_env->describe().find("hunter2"), std::string::npos);
  EXPECT_NE(via_env->describe().find("(set, hidden)"), std::string::npos);
}

TEST_F(SettingsTest, SettingsSurviveCopies) {
  auto s = Settings::load(kSpecs, sources_);
  ASSERT_TRUE(s.ok());
  Settings copy = *s;
  Settings moved = std::move(copy);
  EXPECT_EQ(moved.get_int("port"), 5432);
  EXPECT_NE(moved.describe().find("a port"), std::string::npos);
}

TEST(Catalog, EveryDefaultIsValid) {
  Sources sources;
  auto s = Settings::load(catalog(), sources);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(Settings::env_name("postgres.port"), "STREAMFLOW_POSTGRES_PORT");
}

TEST_F(SettingsTest, NumbersAreParsedAndBounded) {
  auto s = Settings::load(kSpecs, sources_);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_DOUBLE_EQ(s->get_double("rate"), 0.0125);
  sources_.env = {{"STREAMFLOW_RATE", "2.5"}};
  EXPECT_DOUBLE_EQ(Settings::load(kSpecs, sources_)->get_double("rate"), 2.5);
  for (const char* bad : {"fast", "1.5x", "", "-1", "1e9", "nan"}) {
    sources_.env = {{"STREAMFLOW_RATE", bad}};
    auto r = Settings::load(kSpecs, sources_);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("'rate'"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace streamflow::config

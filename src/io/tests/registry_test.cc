/// The schema registry client's version and per-subject compatibility calls: the parsers of
/// their bodies, and the client against an in-process fake of the Confluent-compatible API (no
/// registry needed) so that the paths it asks for and its 404 handling are checked too.

#include "io/registry.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <string>
#include <thread>
#include <vector>

namespace streamflow::io {
namespace {

TEST(RegistryParse, VersionsAreTheSubjectsVersionNumbers) {
  auto versions = parse_versions("[1,2,3]");
  ASSERT_TRUE(versions);
  EXPECT_EQ(*versions, (std::vector<int>{1, 2, 3}));
  auto none = parse_versions("[]");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(parse_versions(R"(["1","2"])").error().code, base::Errc::invalid_argument);
  EXPECT_FALSE(parse_versions(R"({"versions":[1]})"));
  EXPECT_FALSE(parse_versions("<html>502 Bad Gateway</html>"));
}

TEST(RegistryParse, ErrorCodeOfAConfluentErrorBody) {
  EXPECT_EQ(parse_error_code(R"({"error_code":40401,"message":"Subject not found."})"), 40401);
  EXPECT_EQ(
      parse_error_code(R"({"error_code":40408,"message":"Subject does not have subject-level )"
                       R"(compatibility configured."})"),
      40408);
  EXPECT_EQ(parse_error_code(R"({"error_code":"40401"})"), 0);
  EXPECT_EQ(parse_error_code(""), 0);
  EXPECT_EQ(parse_error_code("<html>404</html>"), 0);
}

TEST(RegistryParse, OneVersionOfADebeziumValueSchema) {
  // As Apicurio 3.3's ccompat API answers GET /subjects/<s>/versions/2.
  auto v = parse_schema_version(
      R"({"subject":"streamflow.staging.users-value","version":2,"id":14,)"
      R"("schema":"{\"type\":\"record\",\"name\":\"Envelope\",\"fields\":[]}"})");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->subject, "streamflow.staging.users-value");
  EXPECT_EQ(v->version, 2);
  EXPECT_EQ(v->id, 14);
  EXPECT_EQ(v->schema, R"({"type":"record","name":"Envelope","fields":[]})");
}

/// A fake registry on a free loopback port, serving what each test sets. Owns its server
/// thread: started in the constructor, stopped and joined in the destructor.
class FakeRegistry {
 public:
  FakeRegistry() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // The port already queues connections; stop() only ends a server that runs.
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~FakeRegistry() {
    server_.stop();
    thread_.join();
  }
  FakeRegistry(const FakeRegistry&) = delete;
  FakeRegistry& operator=(const FakeRegistry&) = delete;

  httplib::Server& server() { return server_; }
  int port() const { return port_; }
  /// Every path (with its query string) the client asked for, in order.
  std::vector<std::string> asked;

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

constexpr const char* kApi = "/apis/ccompat/v7";
constexpr const char* kJson = "application/vnd.schemaregistry.v1+json";

std::string path_and_query(const httplib::Request& req) {
  std::string q;
  for (const auto& [k, v] : req.params) q += (q.empty() ? "?" : "&") + k + "=" + v;
  return req.path + q;
}

TEST(RegistryClient, ListsVersionsAndReadsOne) {
  FakeRegistry fake;
  fake.server().Get(R"(/apis/ccompat/v7/subjects/([^/]+)/versions)",
                    [&](const httplib::Request& req, httplib::Response& res) {
                      fake.asked.push_back(path_and_query(req));
                      if (req.matches[1] != "streamflow.staging.users-value") {
                        res.status = 404;
                        res.set_content(R"({"error_code":40401,"message":"Subject not found."})",
                                        kJson);
                        return;
                      }
                      res.set_content("[1,2]", kJson);
                    });
  fake.server().Get(R"(/apis/ccompat/v7/subjects/([^/]+)/versions/(\d+))", [&](const httplib::
                                                                                   Request& req,
                                                                               httplib::Response&
                                                                                   res) {
    fake.asked.push_back(path_and_query(req));
    if (req.matches[2] != "2") {
      res.status = 404;
      res.set_content(R"({"error_code":40402,"message":"Version not found."})", kJson);
      return;
    }
    res.set_content(
        R"({"subject":"streamflow.staging.users-value","version":2,"id":14,"schema":"\"string\""})",
        kJson);
  });
  RegistryClient client("127.0.0.1", fake.port(), kApi);

  auto versions = client.versions("streamflow.staging.users-value");
  ASSERT_TRUE(versions) << versions.error().describe();
  EXPECT_EQ(*versions, (std::vector<int>{1, 2}));
  EXPECT_EQ(client.versions("nobody-value").error().code, base::Errc::not_found);

  auto v2 = client.version("streamflow.staging.users-value", 2);
  ASSERT_TRUE(v2) << v2.error().describe();
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v2->id, 14);
  EXPECT_EQ(v2->schema, R"("string")");
  EXPECT_EQ(client.version("streamflow.staging.users-value", 9).error().code,
            base::Errc::not_found);

  EXPECT_EQ(fake.asked, (std::vector<std::string>{
                            "/apis/ccompat/v7/subjects/streamflow.staging.users-value/versions",
                            "/apis/ccompat/v7/subjects/nobody-value/versions",
                            "/apis/ccompat/v7/subjects/streamflow.staging.users-value/versions/2",
                            "/apis/ccompat/v7/subjects/streamflow.staging.users-value/versions/9",
                        }));
}

TEST(RegistryClient, SubjectCompatibilityIsItsOwnOrTheGlobalLevel) {
  FakeRegistry fake;
  fake.server().Get("/apis/ccompat/v7/config",
                    [&](const httplib::Request& req, httplib::Response& res) {
                      fake.asked.push_back(path_and_query(req));
                      res.set_content(R"({"compatibilityLevel":"BACKWARD_TRANSITIVE"})", kJson);
                    });
  fake.server().Get(R"(/apis/ccompat/v7/config/([^/]+))", [&](const httplib::Request& req,
                                                              httplib::Response& res) {
    fake.asked.push_back(path_and_query(req));
    const auto subject = req.matches[1].str();
    if (subject == "own-value") {
      res.set_content(R"({"compatibilityLevel":"FULL"})", kJson);
    } else if (subject == "inherits-value") {  // as Confluent's registry without the flag
      res.status = 404;
      res.set_content(R"({"error_code":40408,"message":"Subject does not have subject-level )"
                      R"(compatibility configured."})",
                      kJson);
    } else if (subject == "broken-value") {
      res.status = 500;
      res.set_content(R"({"error_code":50001,"message":"boom"})", kJson);
    } else {
      res.status = 404;
      res.set_content(R"({"error_code":40401,"message":"Subject not found."})", kJson);
    }
  });
  RegistryClient client("127.0.0.1", fake.port(), kApi);

  auto own = client.subject_compatibility("own-value");
  ASSERT_TRUE(own) << own.error().describe();
  EXPECT_EQ(*own, "FULL");
  auto inherited = client.subject_compatibility("inherits-value");
  ASSERT_TRUE(inherited) << inherited.error().describe();
  EXPECT_EQ(*inherited, "BACKWARD_TRANSITIVE");
  EXPECT_EQ(client.subject_compatibility("nobody-value").error().code, base::Errc::not_found);
  EXPECT_EQ(client.subject_compatibility("broken-value").error().code, base::Errc::unavailable);

  EXPECT_EQ(fake.asked, (std::vector<std::string>{
                            "/apis/ccompat/v7/config/own-value?defaultToGlobal=true",
                            "/apis/ccompat/v7/config/inherits-value?defaultToGlobal=true",
                            "/apis/ccompat/v7/config",
                            "/apis/ccompat/v7/config/nobody-value?defaultToGlobal=true",
                            "/apis/ccompat/v7/config/broken-value?defaultToGlobal=true",
                        }));
}

TEST(RegistryClient, ARegistryThatIsDownIsUnavailable) {
  int port = 0;
  {
    FakeRegistry gone;  // a port that was free a moment ago and has nobody on it now
    port = gone.port();
  }
  RegistryClient client("127.0.0.1", port, kApi, 1);
  EXPECT_EQ(client.versions("t-value").error().code, base::Errc::unavailable);
  EXPECT_EQ(client.subject_compatibility("t-value").error().code, base::Errc::unavailable);
}

}  // namespace
}  // namespace streamflow::io

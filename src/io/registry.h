#pragma once
/// A client of the schema registry's Confluent-compatible REST API (/apis/ccompat/v7): what
/// `up` sets the compatibility level with and what `status` lists the subjects through. Any
/// Confluent client or tool speaks the same API. Each call is one request; an Error when the
/// registry does not answer or answers something else than the API documents. Not
/// thread-safe: one per thread.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace httplib {
class Client;
}

namespace streamflow::io {

/// One version of a subject's schema: GET /subjects/<subject>/versions/{latest,<n>}.
struct SchemaVersion {
  std::string subject;
  int version = 0;
  int id = 0;  ///< the id the Confluent wire format carries (bytes 1-4 of a record)
  std::string schema;
};

class RegistryClient {
 public:
  /// `base_path`: where the Confluent-compatible API is mounted ("/apis/ccompat/v7").
  RegistryClient(const std::string& host, int port, std::string base_path = "/apis/ccompat/v7",
                 int read_timeout_s = 5);
  ~RegistryClient();
  RegistryClient(RegistryClient&&) noexcept;
  RegistryClient& operator=(RegistryClient&&) noexcept;

  base::Result<std::vector<std::string>> subjects();
  base::Result<SchemaVersion> latest(const std::string& subject);
  /// The subject's version numbers, oldest first (GET /subjects/<subject>/versions); not_found
  /// for a subject the registry does not have.
  base::Result<std::vector<int>> versions(const std::string& subject);
  /// One version of the subject's schema (GET /subjects/<subject>/versions/<version>);
  /// not_found for a subject or version the registry does not have.
  base::Result<SchemaVersion> version(const std::string& subject, int version);
  /// The level the subject's next version is held to: its own, or the global one when it has
  /// none (GET /config/<subject>?defaultToGlobal=true). Apicurio answers that with the global
  /// level; a registry that answers 404 "not configured" (40408) instead is asked for the
  /// global level (GET /config). not_found when the subject does not exist (40401).
  base::Result<std::string> subject_compatibility(const std::string& subject);
  /// The global compatibility level (GET /config), e.g. "BACKWARD".
  base::Result<std::string> compatibility();
  /// Sets the global compatibility level every subject without its own is held to
  /// (PUT /config); invalid_argument when the registry refuses the level.
  base::Result<void> set_compatibility(const std::string& level);

 private:
  std::unique_ptr<httplib::Client> client_;
  std::string base_;
};

// The parts of the API's answers StreamFlow reads; invalid_argument when a body is not one.
base::Result<std::vector<std::string>> parse_subjects(const std::string& body);
base::Result<SchemaVersion> parse_schema_version(const std::string& body);
base::Result<std::string> parse_compatibility(const std::string& body);
/// A subject's version numbers: a JSON array of integers.
base::Result<std::vector<int>> parse_versions(const std::string& body);
/// The Confluent error code of an error body ({"error_code":40401,"message":...}), e.g. 40401
/// subject not found, 40402 version not found, 40408 subject has no compatibility level of its
/// own; 0 when the body is not one (a proxy's HTML page, an empty 404).
int parse_error_code(const std::string& body);
/// Percent-encodes all but RFC 3986's unreserved characters (a subject in a URL path).
std::string encode_path_segment(std::string_view text);

}  // namespace streamflow::io

#pragma once
/// HTTP GET against one base URL (http or https), keeping the connection alive between
/// requests. Not thread-safe: one HttpClient per worker.

#include <memory>
#include <optional>
#include <string>

#include "base/result.h"

namespace httplib {
class Client;
}

namespace streamflow::io {

/// scheme://host[:port]/path?query, split.
struct Url {
  std::string scheme;  ///< "http" or "https"
  std::string host;
  int port = 0;
  std::string path;   ///< begins with '/'
  std::string query;  ///< without '?', may be empty
  /// scheme://host[:port]/path: what may be logged and stored (no query string).
  std::string without_query() const;
  static base::Result<Url> parse(const std::string& text);
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::optional<int> retry_after_s;  ///< from a Retry-After header in seconds
};

class HttpClient {
 public:
  HttpClient(const Url& base, int timeout_s);
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  /// GET base path + "?" + query. An Error only for transport failures (refused, timeout,
  /// reset); any HTTP status is a response for the caller to judge.
  base::Result<HttpResponse> get(const std::string& query);

 private:
  Url base_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace streamflow::io

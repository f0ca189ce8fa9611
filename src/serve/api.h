#pragma once
/// The REST API's handlers: validate parameters, ask the Store, shape JSON. No HTTP here (the
/// server maps routes to these), so every handler is unit-tested with a fake Store.

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"
#include "serve/health.h"
#include "serve/params.h"
#include "serve/store.h"

namespace streamflow::serve {

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

Response json_response(int status, const nlohmann::json& body);
/// {"error": ..., "parameter": ...}: invalid_argument -> 400 naming the parameter, not_found ->
/// 404, unavailable/timeout -> 503 (a service is down), anything else -> 500.
Response error_response(const base::Error& error);

/// Limits of the API's parameters.
struct ApiLimits {
  int max_page_size = 500;
  std::int64_t max_range_ms = 7LL * 24 * 3600 * 1000;
};

/// Thread-safe as long as the Store and the callbacks are.
class Api {
 public:
  Api(Store& store, std::function<HealthSnapshot()> health, std::function<std::int64_t()> clock_ms,
      ApiLimits limits = {});

  /// GET /api/v1/users/{id}
  Response user(const std::string& id) const;
  /// GET /api/v1/users?country=XX&page_size=50&page_token=...
  Response users(const Query& q) const;
  /// GET /api/v1/totals
  Response totals() const;
  /// GET /api/v1/signups?by=country|gender|age_band&from=...&to=... (default: the last hour)
  Response signups(const Query& q) const;
  /// GET /api/v1/countries/top?limit=10
  Response top_countries(const Query& q) const;
  /// GET /api/v1/coordinates?limit=1000
  Response coordinates(const Query& q) const;
  /// GET /api/v1/health
  Response health() const;

 private:
  Store& store_;
  std::function<HealthSnapshot()> health_;
  std::function<std::int64_t()> clock_ms_;
  ApiLimits limits_;
};

}  // namespace streamflow::serve

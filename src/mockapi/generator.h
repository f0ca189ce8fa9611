#pragma once
/// The mock API's record generator: randomuser.me-compatible JSON (versions 1.4, 1.3 and 1.2),
/// deterministic for a given seed and page, fast enough never to be the bottleneck.
/// Pure: no I/O, no clock except the current year for ages.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"

namespace streamflow::mockapi {

/// One request, as the real API reads its query string.
struct Query {
  int results = 1;                ///< 1..5000; out of range becomes 1, as the real API does
  std::string seed;               ///< empty: a random seed, echoed in info.seed
  int page = 1;                   ///< 1..10000
  std::vector<std::string> nats;  ///< empty: any nationality
  std::string gender;             ///< "", "male" or "female" (ignored when a seed is given)
  std::set<std::string> fields;   ///< top-level fields to include, after inc/exc
  bool noinfo = false;
  std::string version = "1.4";  ///< "1.4", "1.3" or "1.2" (from the /api/1.x/ path)
  double bad_record_rate = 0;   ///< fraction of records given a missing or mistyped field
  double trap_rate = 0.02;      ///< fraction given a stray BOM, NBSP or trailing space

  /// Reads the query parameters the real API accepts: results, seed, page, nat, gender, inc,
  /// exc, noinfo, format. Unknown nationalities are an invalid_argument error.
  static base::Result<Query> from_params(const std::multimap<std::string, std::string>& params);
};

/// The whole JSON response body.
std::string generate(const Query& query);

/// The top-level fields of a record, in the order the real API serves them.
const std::vector<std::string>& all_fields();

}  // namespace streamflow::mockapi

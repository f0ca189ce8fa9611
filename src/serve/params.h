#pragma once
/// Validation of the REST API's request parameters. Pure. A bad value is an invalid_argument
/// Error whose context is the parameter's name, so that the 400 answer says which one.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace streamflow::serve {

/// Query-string parameters (the first value of each name).
using Query = std::map<std::string, std::string>;

/// The analytics breakdowns of signups per minute.
enum class Dimension { country, gender, age_band };
std::string_view to_string(Dimension d);

/// A canonical uuid (any case), returned lower-case.
base::Result<std::string> parse_uuid(std::string_view name, std::string_view value);
/// An ISO 3166-1 alpha-2 code (any case), returned upper-case.
base::Result<std::string> parse_country(std::string_view name, std::string_view value);
/// `q[name]` as an integer in [min, max], or `fallback` when absent.
base::Result<std::int64_t> int_param(const Query& q, const std::string& name, std::int64_t fallback,
                                     std::int64_t min, std::int64_t max);
/// `q[name]` as an instant (epoch milliseconds): ISO-8601 UTC ("2026-11-26T07:00:00Z", seconds
/// and the Z optional, fractions allowed) or epoch milliseconds; `fallback` when absent.
base::Result<std::int64_t> time_param(const Query& q, const std::string& name,
                                      std::int64_t fallback);
base::Result<Dimension> dimension_param(const Query& q, const std::string& name,
                                        Dimension fallback);
/// Page tokens are the driver's paging state, hex-encoded.
std::string hex_encode(std::string_view bytes);
base::Result<std::string> hex_decode(std::string_view name, std::string_view hex);

/// Epoch milliseconds as ISO-8601 UTC with milliseconds ("2026-11-26T07:00:00.000Z").
std::string iso_millis(std::int64_t ms);
/// The UTC date ("2026-11-26") of an instant.
std::string utc_day(std::int64_t ms);

}  // namespace streamflow::serve

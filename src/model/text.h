#pragma once
/// Text normalisation shared by every text field (and mirrored by the Spark job; both are
/// tested with tests/golden/). Pure functions.

#include <optional>
#include <string>
#include <string_view>

namespace streamflow::model {

/// Normalises one text value:
///  - removes U+FEFF (byte-order marks) wherever they are;
///  - trims white space (ASCII, U+00A0, U+2000-U+200B, U+3000) and zero-width joiners at both
///    ends, keeping ZWJ/ZWNJ inside text, where Persian and Indic scripts need them;
/// and returns the reason when the value is unusable: a control character (U+0000-U+001F,
/// U+007F-U+009F) or invalid UTF-8. Scripts are never transliterated or "repaired".
struct Normalised {
  std::string value;
  std::optional<std::string> problem;
};
Normalised normalise_text(std::string_view in);

/// ASCII lower-casing (emails, uuids, gender); other bytes are kept.
std::string ascii_lower(std::string_view in);
std::string ascii_upper(std::string_view in);

/// 8-4-4-4-12 hexadecimal.
bool is_uuid(std::string_view s);
/// YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM], or the legacy "YYYY-MM-DD HH:MM:SS", with real ranges.
bool is_timestamp(std::string_view s);
/// Seconds since 1970-01-01T00:00:00Z (as API 1.0 and the pre-1.0 versions served dob and
/// registered: a JSON number or a string of digits, maybe negative) as "YYYY-MM-DDTHH:MM:SSZ";
/// nullopt when the text is not a whole number or the instant falls outside years 1..9999.
std::optional<std::string> epoch_seconds_to_iso(std::string_view digits);
/// "[+-]H:MM" or "[+-]HH:MM" with hours <= 14 and minutes < 60.
bool is_tz_offset(std::string_view s);
/// A plain decimal ("-69.8246", "134", "+1.5") within [-limit, limit].
bool is_coordinate(std::string_view s, double limit);
/// local@domain with no spaces, one '@', a dot in the domain.
bool is_email(std::string_view s);

}  // namespace streamflow::model

#pragma once
/// The user record as StreamFlow stores it: validated and normalised, with no credential field
/// at all (randomuser's login.password/salt/md5/sha1/sha256 are dropped while decoding) and the
/// national id only as a keyed hash. Only the uuid is always there: a record of an inc/exc
/// filtered request (or an older API version) lacks whole blocks, which are then null. A plain
/// value type.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace streamflow::model {

struct User {
  std::string uuid;  ///< login.uuid, lower-case canonical form; the key everywhere downstream
  std::optional<std::string> gender;  ///< "male" or "female"
  std::optional<std::string> title;
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  std::optional<std::int64_t> street_number;
  std::optional<std::string> street_name;
  std::optional<std::string> city;
  std::optional<std::string> state;
  std::optional<std::string> country;
  std::optional<std::string> postcode;   ///< always text: "01234" and "SW1A 1AA" are postcodes
  std::optional<std::string> latitude;   ///< decimal text as served, range-checked
  std::optional<std::string> longitude;  ///< decimal text as served, range-checked
  std::optional<std::string> tz_offset;  ///< "+5:45", "-3:30", "0:00"
  std::optional<std::string> tz_description;
  std::optional<std::string> email;  ///< lower-cased
  std::optional<std::string> username;
  std::optional<std::string> dob;  ///< ISO 8601 timestamp as served (UTC)
  std::optional<std::int64_t> dob_age;
  std::optional<std::string> registered;
  std::optional<std::int64_t> registered_age;
  std::optional<std::string> phone;
  std::optional<std::string> cell;
  std::optional<std::string> id_name;
  std::optional<std::string>
      id_hash;  ///< HMAC-SHA256 of id.value (hex); null when id.value is null
  std::optional<std::string> picture_large;
  std::optional<std::string> picture_medium;
  std::optional<std::string> picture_thumbnail;
  std::optional<std::string> nat;  ///< two upper-case letters

  bool operator==(const User&) const = default;
};

/// A record that failed validation: where it was, why, and its payload with credentials
/// removed and id.value replaced by its hash.
struct Reject {
  std::size_t index = 0;            ///< position in the response's results array
  std::string reason;               ///< "<field>: <what is wrong>"
  std::string raw;                  ///< the record as JSON, through sanitise() (model/sanitise.h)
  std::optional<std::string> uuid;  ///< login.uuid when it could be read
};

/// How a document held its records (model/decode.h).
enum class Framing { envelope, array, json_lines };
std::string_view to_string(Framing framing);

/// A decoded API response (or saved file).
struct Batch {
  Framing framing = Framing::envelope;
  std::optional<std::string> api_version;  ///< info.version ("1.4", "1.3")
  std::optional<std::string> seed;         ///< info.seed
  std::optional<std::int64_t> page;        ///< info.page
  std::size_t records = 0;                 ///< results.length (records in the document)
  std::vector<User> users;                 ///< valid, first occurrence of each uuid
  std::vector<Reject> rejects;             ///< invalid ones and later duplicates of a uuid
};

}  // namespace streamflow::model

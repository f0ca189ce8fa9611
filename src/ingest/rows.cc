#include "ingest/rows.h"

#include <algorithm>
#include <cmath>

#include "base/digest.h"
#include "io/pg.h"

namespace streamflow::ingest {

const char* const kUserColumns =
    "user_id, gender, title, first_name, last_name, street_number, street_name, city, state, "
    "country, "
    "postcode, latitude, longitude, tz_offset, tz_description, email, username, dob, dob_age, "
    "registered, "
    "registered_age, phone, cell, id_name, id_hash, picture_large, picture_medium, "
    "picture_thumbnail, nat, batch_id";

const char* const kUserDataColumns =
    "gender, title, first_name, last_name, street_number, street_name, city, state, country, "
    "postcode, latitude, longitude, tz_offset, tz_description, email, username, dob, dob_age, "
    "registered, "
    "registered_age, phone, cell, id_name, id_hash, picture_large, picture_medium, "
    "picture_thumbnail, nat";

namespace {

using io::copy_field;

void field(std::string& out, const std::optional<std::string>& v) {
  copy_field(out, v ? std::optional<std::string_view>(*v) : std::nullopt);
  out += '\t';
}
void field(std::string& out, const std::string& v) {
  copy_field(out, v);
  out += '\t';
}
void field(std::string& out, const std::optional<std::int64_t>& v) {
  if (v)
    out += std::to_string(*v);
  else
    out += "\\N";
  out += '\t';
}

}  // namespace

void append_user_row(std::string& out, const model::User& u, std::string_view batch_id) {
  field(out, u.uuid);
  field(out, u.gender);
  field(out, u.title);
  field(out, u.first_name);
  field(out, u.last_name);
  field(out, u.street_number);
  field(out, u.street_name);
  field(out, u.city);
  field(out, u.state);
  field(out, u.country);
  field(out, u.postcode);
  field(out, u.latitude);
  field(out, u.longitude);
  field(out, u.tz_offset);
  field(out, u.tz_description);
  field(out, u.email);
  field(out, u.username);
  field(out, u.dob);
  field(out, u.dob_age);
  field(out, u.registered);
  field(out, u.registered_age);
  field(out, u.phone);
  field(out, u.cell);
  field(out, u.id_name);
  field(out, u.id_hash);
  field(out, u.picture_large);
  field(out, u.picture_medium);
  field(out, u.picture_thumbnail);
  field(out, u.nat);
  copy_field(out, batch_id);
  out += '\n';
}

void append_reject_row(std::string& out, const model::Reject& r, std::string_view batch_id,
                       std::string_view source) {
  copy_field(out, batch_id);
  out += '\t';
  copy_field(out, source);
  out += '\t';
  out += std::to_string(r.index);
  out += '\t';
  field(out, r.uuid);
  field(out, r.reason);
  copy_field(out, r.raw);
  out += '\n';
}

std::string derived_uuid(std::string_view key) {
  auto d = base::sha256(key);
  d[6] = static_cast<std::uint8_t>((d[6] & 0x0F) | 0x80);  // version 8: custom, name-derived
  d[8] = static_cast<std::uint8_t>((d[8] & 0x3F) | 0x80);  // RFC 4122 variant
  const auto hex = base::to_hex(d.data(), 16);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

std::chrono::milliseconds backoff_delay(int attempt, std::optional<int> retry_after_s,
                                        double jitter_unit, const BackoffPolicy& policy) {
  using std::chrono::milliseconds;
  if (retry_after_s && *retry_after_s >= 0) {
    return milliseconds(std::min<long long>(*retry_after_s, 300) * 1000 +
                        static_cast<long long>(jitter_unit * 100));
  }
  const double exp =
      static_cast<double>(policy.base.count()) * std::pow(2.0, std::min(attempt, 20));
  const double capped = std::min(exp, static_cast<double>(policy.cap.count()));
  return milliseconds(static_cast<long long>(capped / 2 + jitter_unit * capped / 2));
}

}  // namespace streamflow::ingest

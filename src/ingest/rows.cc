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

}  // namespace

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

namespace {

void put_be(std::string& out, std::uint64_t v, int bytes) {
  char buf[8];
  for (int i = 0; i < bytes; ++i) buf[i] = static_cast<char>((v >> (8 * (bytes - 1 - i))) & 0xFF);
  out.append(buf, static_cast<std::size_t>(bytes));
}
void bin_null(std::string& out) { put_be(out, 0xFFFFFFFFu, 4); }
void bin_text(std::string& out, std::string_view v) {
  put_be(out, v.size(), 4);
  out.append(v);
}
void bin_text(std::string& out, const std::optional<std::string>& v) {
  if (v)
    bin_text(out, std::string_view(*v));
  else
    bin_null(out);
}
void bin_int8(std::string& out, const std::optional<std::int64_t>& v) {
  if (!v) return bin_null(out);
  put_be(out, 8, 4);
  put_be(out, static_cast<std::uint64_t>(*v), 8);
}
void bin_int4(std::string& out, const std::optional<std::int64_t>& v) {
  if (!v) return bin_null(out);
  put_be(out, 4, 4);
  put_be(out, static_cast<std::uint32_t>(static_cast<std::int32_t>(*v)), 4);
}
void bin_uuid(std::string& out, std::string_view v) {
  put_be(out, 16, 4);
  out.append(uuid_bytes(v));
}
void bin_timestamp(std::string& out, const std::optional<std::string>& v) {
  if (!v) return bin_null(out);
  put_be(out, 8, 4);
  put_be(out, static_cast<std::uint64_t>(timestamp_micros(*v)), 8);
}

int digits(std::string_view s, std::size_t pos, std::size_t n) {
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) v = v * 10 + (s[pos + i] - '0');
  return v;
}

std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;  // days since 1970-01-01
}

}  // namespace

std::int64_t timestamp_micros(std::string_view s) {
  const std::int64_t days = days_from_civil(digits(s, 0, 4), digits(s, 5, 2), digits(s, 8, 2)) -
                            days_from_civil(2000, 1, 1);
  std::int64_t micros =
      (days * 86400 + digits(s, 11, 2) * 3600 + digits(s, 14, 2) * 60 + digits(s, 17, 2)) *
      1000000LL;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::int64_t frac = 0;
    int n = 0;
    int round_digit = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 6)
        frac = frac * 10 + (s[pos] - '0');
      else if (n == 6)
        round_digit = s[pos] - '0';
      ++n;
      ++pos;
    }
    for (int i = n; i < 6; ++i) frac *= 10;
    micros += frac + (round_digit >= 5 ? 1 : 0);
  }
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const std::int64_t offset =
        (digits(s, pos + 1, 2) * 3600 + digits(s, pos + 4, 2) * 60) * 1000000LL;
    micros += s[pos] == '+' ? -offset : offset;
  }
  return micros;
}

std::string uuid_bytes(std::string_view uuid) {
  std::string out;
  out.reserve(16);
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < uuid.size();) {
    if (uuid[i] == '-') {
      ++i;
      continue;
    }
    out += static_cast<char>((nibble(uuid[i]) << 4) | nibble(uuid[i + 1]));
    i += 2;
  }
  return out;
}

void copy_binary_header(std::string& out) {
  static constexpr char kSignature[] = "PGCOPY\n\xff\r\n";
  out.append(kSignature, 11);  // includes the signature's trailing NUL
  put_be(out, 0, 4);           // flags
  put_be(out, 0, 4);           // header extension length
}

void copy_binary_trailer(std::string& out) { put_be(out, 0xFFFF, 2); }

void append_user_row_binary(std::string& out, const model::User& u, std::string_view batch_id) {
  put_be(out, 30, 2);  // fields, as kUserColumns
  bin_uuid(out, u.uuid);
  bin_text(out, u.gender);
  bin_text(out, u.title);
  bin_text(out, u.first_name);
  bin_text(out, u.last_name);
  bin_int8(out, u.street_number);
  bin_text(out, u.street_name);
  bin_text(out, u.city);
  bin_text(out, u.state);
  bin_text(out, u.country);
  bin_text(out, u.postcode);
  bin_text(out, u.latitude);
  bin_text(out, u.longitude);
  bin_text(out, u.tz_offset);
  bin_text(out, u.tz_description);
  bin_text(out, u.email);
  bin_text(out, u.username);
  bin_timestamp(out, u.dob);
  bin_int4(out, u.dob_age);
  bin_timestamp(out, u.registered);
  bin_int4(out, u.registered_age);
  bin_text(out, u.phone);
  bin_text(out, u.cell);
  bin_text(out, u.id_name);
  bin_text(out, u.id_hash);
  bin_text(out, u.picture_large);
  bin_text(out, u.picture_medium);
  bin_text(out, u.picture_thumbnail);
  bin_text(out, u.nat);
  bin_uuid(out, batch_id);
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

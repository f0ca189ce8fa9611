#include "serve/params.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <chrono>

namespace streamflow::serve {

using base::Errc;
using base::make_error;
using base::Result;

namespace {

base::Error bad(std::string_view name, const std::string& why) {
  return make_error(Errc::invalid_argument, why, std::string(name));
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

int to_int(std::string_view s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

std::string_view to_string(Dimension d) {
  switch (d) {
    case Dimension::country:
      return "country";
    case Dimension::gender:
      return "gender";
    case Dimension::age_band:
      return "age_band";
  }
  return "country";
}

Result<std::string> parse_uuid(std::string_view name, std::string_view v) {
  if (v.size() != 36) return bad(name, "not a uuid (8-4-4-4-12 hex digits)");
  std::string out(v);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = out[i];
    if (dash ? c != '-' : !std::isxdigit(static_cast<unsigned char>(c)))
      return bad(name, "not a uuid (8-4-4-4-12 hex digits)");
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Result<std::string> parse_country(std::string_view name, std::string_view v) {
  if (v.size() != 2 || !std::isalpha(static_cast<unsigned char>(v[0])) ||
      !std::isalpha(static_cast<unsigned char>(v[1]))) {
    return bad(name, "not a two-letter ISO country code");
  }
  std::string out(v);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

Result<std::int64_t> int_param(const Query& q, const std::string& name, std::int64_t fallback,
                               std::int64_t min, std::int64_t max) {
  auto it = q.find(name);
  if (it == q.end()) return fallback;
  const auto& s = it->second;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    return bad(name, "not an integer: '" + s.substr(0, 40) + "'");
  if (v < min || v > max) return bad(name, fmt::format("must be between {} and {}", min, max));
  return v;
}

Result<std::int64_t> time_param(const Query& q, const std::string& name, std::int64_t fallback) {
  auto it = q.find(name);
  if (it == q.end()) return fallback;
  std::string_view s = it->second;
  if (all_digits(s) && s.size() <= 15) {
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
  }
  // YYYY-MM-DDTHH:MM[:SS[.fff]][Z]
  if (!s.empty() && s.back() == 'Z') s.remove_suffix(1);
  const auto fail = [&] {
    return bad(name, "not an ISO-8601 UTC time (2026-11-26T07:00:00Z) or epoch milliseconds");
  };
  if (s.size() < 16 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
      s[13] != ':') {
    return fail();
  }
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15})
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return fail();
  int sec = 0, millis = 0;
  if (s.size() > 16) {
    if (s[16] != ':' || s.size() < 19 || !all_digits(s.substr(17, 2))) return fail();
    sec = to_int(s.substr(17, 2));
    if (s.size() > 19) {
      if (s[19] != '.' || !all_digits(s.substr(20))) return fail();
      auto frac = std::string(s.substr(20, 3));
      while (frac.size() < 3) frac += '0';
      millis = to_int(frac);
    }
  }
  using namespace std::chrono;
  const year_month_day ymd{year{to_int(s.substr(0, 4))}, month{unsigned(to_int(s.substr(5, 2)))},
                           day{unsigned(to_int(s.substr(8, 2)))}};
  const int hh = to_int(s.substr(11, 2)), mm = to_int(s.substr(14, 2));
  if (!ymd.ok() || hh > 23 || mm > 59 || sec > 59) return fail();
  const auto t = sys_days{ymd} + hours{hh} + minutes{mm} + seconds{sec} + milliseconds{millis};
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

Result<Dimension> dimension_param(const Query& q, const std::string& name, Dimension fallback) {
  auto it = q.find(name);
  if (it == q.end()) return fallback;
  for (auto d : {Dimension::country, Dimension::gender, Dimension::age_band})
    if (it->second == to_string(d)) return d;
  return bad(name, "must be one of country, gender, age_band");
}

std::string hex_encode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

Result<std::string> hex_decode(std::string_view name, std::string_view hex) {
  if (hex.size() % 2 != 0 || hex.size() > 4096) return bad(name, "not a page token");
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
    if (ec != std::errc() || p != hex.data() + i + 2) return bad(name, "not a page token");
    out += static_cast<char>(v);
  }
  return out;
}

std::string iso_millis(std::int64_t ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds{ms}};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", int(ymd.year()),
                     unsigned(ymd.month()), unsigned(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count(), hms.subseconds().count());
}

std::string utc_day(std::int64_t ms) { return iso_millis(ms).substr(0, 10); }

}  // namespace streamflow::serve

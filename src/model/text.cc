#include "model/text.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <vector>

namespace streamflow::model {
namespace {

// Decodes one UTF-8 code point at s[i]; returns its length, or 0 if invalid.
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t len = (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  cp = b0 & (0xFF >> (len + 1));
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b >> 6) != 0x2) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  // Reject overlong forms and surrogates.
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
      (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return len;
}

bool is_edge_space(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200D) || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000 || cp == 0x2060;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int to_int(std::string_view s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

Normalised normalise_text(std::string_view in) {
  Normalised out;
  // Fast path, most values: printable ASCII with no space at either end is already normal.
  bool plain = !in.empty() && in.front() != ' ' && in.back() != ' ';
  for (std::size_t i = 0; plain && i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    plain = c >= 0x20 && c < 0x7F && c != '\t';
  }
  if (plain) {
    out.value.assign(in);
    return out;
  }
  // First pass: validate, drop BOMs, find the code points.
  struct Cp {
    std::size_t start, len;
    char32_t cp;
  };
  std::vector<Cp> cps;
  cps.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    char32_t cp = 0;
    std::size_t len = decode_utf8(in, i, cp);
    if (len == 0) {
      out.problem = "invalid UTF-8";
      return out;
    }
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
      out.problem =
          fmt::format("contains control character U+{:04X}", static_cast<std::uint32_t>(cp));
      return out;
    }
    if (cp != 0xFEFF) cps.push_back({i, len, cp});
    i += len;
  }
  std::size_t first = 0, last = cps.size();
  while (first < last && is_edge_space(cps[first].cp)) ++first;
  while (last > first && is_edge_space(cps[last - 1].cp)) --last;
  out.value.reserve(in.size());
  for (std::size_t k = first; k < last; ++k) out.value.append(in.substr(cps[k].start, cps[k].len));
  return out;
}

std::string ascii_lower(std::string_view in) {
  std::string out(in);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string ascii_upper(std::string_view in) {
  std::string out(in);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

bool is_timestamp(std::string_view s) {
  // Date part.
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':') {
    return false;
  }
  auto part = [&](std::size_t pos, std::size_t len) { return s.substr(pos, len); };
  for (auto [pos, len] : {std::pair{0, 4}, {5, 2}, {8, 2}, {11, 2}, {14, 2}, {17, 2}}) {
    if (!all_digits(part(pos, len))) return false;
  }
  const int month = to_int(part(5, 2)), day = to_int(part(8, 2));
  const int hour = to_int(part(11, 2)), minute = to_int(part(14, 2)), second = to_int(part(17, 2));
  const int year = to_int(part(0, 4));
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] || hour > 23 || minute > 59 ||
      second > 60) {
    return false;
  }
  if (month == 2 && day == 29 && !((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
    return false;
  if (year < 1) return false;  // no year 0 in PostgreSQL's calendar
  std::string_view rest = s.substr(19);
  if (!rest.empty() && rest[0] == '.') {
    std::size_t n = 1;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
    if (n == 1 || n > 10) return false;
    rest.remove_prefix(n);
  }
  if (rest.empty()) return true;  // no zone: taken as UTC
  if (rest == "Z") return true;
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
      all_digits(rest.substr(1, 2)) && all_digits(rest.substr(4, 2))) {
    return to_int(rest.substr(1, 2)) <= 14 && to_int(rest.substr(4, 2)) < 60;
  }
  return false;
}

std::optional<std::string> epoch_seconds_to_iso(std::string_view text) {
  std::string_view body = text;
  const bool negative = !body.empty() && body[0] == '-';
  if (negative) body.remove_prefix(1);
  if (body.empty() || body.size() > 12 || !all_digits(body)) return std::nullopt;
  std::int64_t seconds = 0;
  for (char c : body) seconds = seconds * 10 + (c - '0');
  if (negative) seconds = -seconds;
  // Howard Hinnant's civil_from_days.
  std::int64_t days = seconds / 86400, rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 1 || year > 9999) return std::nullopt;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", year, month, day, rem / 3600,
                     rem % 3600 / 60, rem % 60);
}

bool is_tz_offset(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || s.size() - colon != 3)
    return false;
  auto h = s.substr(0, colon), m = s.substr(colon + 1);
  return all_digits(h) && all_digits(m) && to_int(h) <= 14 && to_int(m) < 60;
}

bool is_coordinate(std::string_view s, double limit) {
  if (s.empty() || s.size() > 32) return false;
  std::string_view body = s;
  if (body[0] == '+' || body[0] == '-') body.remove_prefix(1);
  auto dot = body.find('.');
  auto ip = body.substr(0, dot);
  auto fp = dot == std::string_view::npos ? std::string_view{} : body.substr(dot + 1);
  if (!all_digits(ip) || (dot != std::string_view::npos && !all_digits(fp))) return false;
  double v = 0;
  auto text = std::string(s[0] == '+' ? s.substr(1) : s);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc() && ptr == text.data() + text.size() && std::fabs(v) <= limit;
}

bool is_email(std::string_view s) {
  auto at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos)
    return false;
  auto domain = s.substr(at + 1);
  if (domain.size() < 3 || domain.find('.') == std::string_view::npos || domain.front() == '.' ||
      domain.back() == '.') {
    return false;
  }
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == ',' || c == '<' || c == '>') return false;
  }
  return true;
}

}  // namespace streamflow::model

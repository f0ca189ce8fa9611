#include "mockapi/generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>

#include "base/random.h"
#include "mockapi/nat_data.h"

namespace streamflow::mockapi {

namespace {

using SV = std::string_view;

/// splitmix64: tiny, fast, statistically fine for test data.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [lo, hi].
  std::int64_t range(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  template <class C>
  const auto& pick(const C& c) {
    return c[static_cast<std::size_t>(next() % c.size())];
  }

 private:
  std::uint64_t s_;
};

std::uint64_t fnv1a(SV s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

constexpr std::array<std::pair<SV, SV>, 31> kTimezones = {{
    {"-12:00", "Eniwetok, Kwajalein"},
    {"-11:00", "Midway Island, Samoa"},
    {"-10:00", "Hawaii"},
    {"-9:00", "Alaska"},
    {"-8:00", "Pacific Time (US & Canada)"},
    {"-7:00", "Mountain Time (US & Canada)"},
    {"-6:00", "Central Time (US & Canada), Mexico City"},
    {"-5:00", "Eastern Time (US & Canada), Bogota, Lima"},
    {"-4:00", "Atlantic Time (Canada), Caracas, La Paz"},
    {"-3:30", "Newfoundland"},
    {"-3:00", "Brazil, Buenos Aires, Georgetown"},
    {"-2:00", "Mid-Atlantic"},
    {"-1:00", "Azores, Cape Verde Islands"},
    {"0:00", "Western Europe Time, London, Lisbon, Casablanca"},
    {"+1:00", "Brussels, Copenhagen, Madrid, Paris"},
    {"+2:00", "Kaliningrad, South Africa"},
    {"+3:00", "Baghdad, Riyadh, Moscow, St. Petersburg"},
    {"+3:30", "Tehran"},
    {"+4:00", "Abu Dhabi, Muscat, Baku, Tbilisi"},
    {"+4:30", "Kabul"},
    {"+5:00", "Ekaterinburg, Islamabad, Karachi, Tashkent"},
    {"+5:30", "Bombay, Calcutta, Madras, New Delhi"},
    {"+5:45", "Kathmandu"},
    {"+6:00", "Almaty, Dhaka, Colombo"},
    {"+7:00", "Bangkok, Hanoi, Jakarta"},
    {"+8:00", "Beijing, Perth, Singapore, Hong Kong"},
    {"+9:00", "Tokyo, Seoul, Osaka, Sapporo, Yakutsk"},
    {"+9:30", "Adelaide, Darwin"},
    {"+10:00", "Eastern Australia, Guam, Vladivostok"},
    {"+11:00", "Magadan, Solomon Islands, New Caledonia"},
    {"+12:00", "Auckland, Wellington, Fiji, Kamchatka"},
}};
constexpr std::array<SV, 12> kAdjectives = {"yellow",    "purple", "crazy",  "happy",
                                            "silver",    "orange", "green",  "lazy",
                                            "beautiful", "tiny",   "golden", "heavy"};
constexpr std::array<SV, 12> kAnimals = {"peacock", "zebra", "cat",  "swan",  "fox",   "koala",
                                         "lion",    "mouse", "bird", "tiger", "panda", "ostrich"};
constexpr std::array<SV, 12> kPasswords = {"addison", "sunshine", "jokers",  "woodie",
                                           "dragon",  "qwerty",   "letmein", "monkey",
                                           "shadow",  "master",   "hunter",  "freedom"};
constexpr char kHex[] = "0123456789abcdef";
constexpr char kAlnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// JSON building by appending to one string; keys and table values need no escaping beyond
/// quotes and backslashes, which `str` handles.
class Out {
 public:
  explicit Out(std::string& s) : s_(s) {}
  void raw(SV v) { s_.append(v); }
  void key(SV k) {
    s_ += '"';
    s_.append(k);
    s_ += "\":";
  }
  void str(SV v) {
    s_ += '"';
    bool plain = true;
    for (char c : v) plain &= (c != '"' && c != '\\');
    if (plain) {
      s_.append(v);  // the common case: one append
    } else {
      for (char c : v) {
        if (c == '"' || c == '\\') s_ += '\\';
        s_ += c;
      }
    }
    s_ += '"';
  }
  void num(std::int64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    s_.append(buf, static_cast<std::size_t>(end - buf));
  }
  /// A decimal with exactly four fraction digits, as the real API serves coordinates.
  void fixed4(double v) {
    long long t = std::llround(v * 10000.0);
    s_ += '"';
    if (t < 0) {
      s_ += '-';
      t = -t;
    }
    num(t / 10000);
    const int frac = static_cast<int>(t % 10000);
    const char digits[4] = {
        static_cast<char>('0' + frac / 1000), static_cast<char>('0' + frac / 100 % 10),
        static_cast<char>('0' + frac / 10 % 10), static_cast<char>('0' + frac % 10)};
    s_ += '.';
    s_.append(digits, 4);
    s_ += '"';
  }

 private:
  std::string& s_;
};

std::string fill(SV pattern, Rng& rng) {
  std::string out(pattern);
  for (char& c : out) {
    if (c == '#')
      c = static_cast<char>('0' + rng.range(0, 9));
    else if (c == '@')
      c = static_cast<char>('A' + rng.range(0, 25));
  }
  return out;
}

void hex(std::string& out, Rng& rng, int n) {
  char buf[16];
  while (n > 0) {
    std::uint64_t bits = rng.next();  // 16 hex digits per draw
    const int take = n < 16 ? n : 16;
    for (int i = 0; i < take; ++i, bits >>= 4) buf[i] = kHex[bits & 15];
    out.append(buf, static_cast<std::size_t>(take));
    n -= take;
  }
}

std::string uuid4(Rng& rng) {
  std::string u;
  u.reserve(36);
  hex(u, rng, 8);
  u += '-';
  hex(u, rng, 4);
  u += "-4";
  hex(u, rng, 3);
  u += '-';
  u += kHex[8 + (rng.next() & 3)];
  hex(u, rng, 3);
  u += '-';
  hex(u, rng, 12);
  return u;
}

/// Milliseconds since the epoch -> "1992-03-08T15:13:16.688Z" (civil-from-days).
std::string iso_date(std::int64_t ms, int* year_out) {
  // Floor division: dates before 1970 are negative.
  std::int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  const int millis = static_cast<int>(ms - secs * 1000);
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = yoe + era * 400;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  if (year_out) *year_out = static_cast<int>(y);
  char buf[25] = "0000-00-00T00:00:00.000Z";
  auto put = [&](int pos, std::int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i, v /= 10) buf[pos + i] = static_cast<char>('0' + v % 10);
  };
  put(0, y, 4);
  put(5, m, 2);
  put(8, d, 2);
  put(11, rem / 3600, 2);
  put(14, (rem / 60) % 60, 2);
  put(17, rem % 60, 2);
  put(20, millis, 3);
  return std::string(buf, 24);
}

int current_year() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  return tm.tm_year + 1900;
}

std::string email_part(SV latin) {
  std::string out;
  for (char c : latin) {
    if (c == ' ' || c == '\'' || static_cast<unsigned char>(c) >= 0x80) continue;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

/// A stray BOM, NBSP or trailing space, as real payloads sometimes carry.
std::string with_trap(SV value, Rng& rng) {
  switch (rng.range(0, 2)) {
    case 0:
      return "\xEF\xBB\xBF" + std::string(value);
    case 1:
      return std::string(value) + "\xC2\xA0";
    default:
      return std::string(value) + " ";
  }
}

}  // namespace

const std::vector<std::string>& all_fields() {
  static const std::vector<std::string> kFields = {"gender", "name", "location",   "email",
                                                   "login",  "dob",  "registered", "phone",
                                                   "cell",   "id",   "picture",    "nat"};
  return kFields;
}

base::Result<Query> Query::from_params(const std::multimap<std::string, std::string>& params) {
  Query q;
  auto get = [&](const std::string& k) -> std::string {
    auto range = params.equal_range(k);
    std::string v;
    for (auto it = range.first; it != range.second; ++it) v = it->second;  // last wins, as upstream
    return v;
  };
  auto to_int = [](const std::string& s, int fallback) {
    try {
      std::size_t used = 0;
      int v = std::stoi(s, &used);
      return used == s.size() ? v : fallback;
    } catch (...) {
      return fallback;
    }
  };
  q.results = to_int(get("results"), 1);
  if (q.results < 1 || q.results > 5000) q.results = 1;
  q.page = to_int(get("page"), 1);
  if (q.page < 1 || q.page > 10000) q.page = 1;
  q.seed = get("seed");
  q.gender = get("gender");
  if ((q.gender != "male" && q.gender != "female") || !q.seed.empty()) q.gender.clear();
  q.noinfo = params.count("noinfo") > 0;
  auto split = [](const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s + ",") {
      if (c == ',') {
        std::string t;
        for (char x : cur) {
          if (x != ' ') t += static_cast<char>(std::tolower(static_cast<unsigned char>(x)));
        }
        if (!t.empty()) out.push_back(t);
        cur.clear();
      } else {
        cur += c;
      }
    }
    return out;
  };
  for (auto& n : split(get("nat"))) {
    for (char& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!find_nat(n)) {
      return base::make_error(base::Errc::invalid_argument, "unknown nationality '" + n + "'");
    }
    q.nats.push_back(n);
  }
  auto inc = split(get("inc"));
  auto exc = split(get("exc"));
  for (const auto& f : all_fields()) {
    bool included = inc.empty() || std::find(inc.begin(), inc.end(), f) != inc.end();
    bool excluded = std::find(exc.begin(), exc.end(), f) != exc.end();
    if (included && !excluded) q.fields.insert(f);
  }
  return q;
}

std::string generate(const Query& query) {
  std::string seed = query.seed;
  if (seed.empty()) {
    auto bytes = base::random_bytes(8);
    for (auto b : bytes) {
      seed += kHex[b >> 4];
      seed += kHex[b & 15];
    }
  }
  const int year_now = current_year();
  // API 1.2: a "<number> <name>" street, no country, lower-case titles, numeric postcodes and
  // second-precision dates (1.3 split the street and added the country; 1.3 and 1.4 share
  // the shape served here by default).
  const bool v12 = query.version == "1.2";
  const auto nats = nationalities();
  const std::uint64_t base_seed =
      fnv1a(seed) ^ (static_cast<std::uint64_t>(query.page) * 0x9E3779B97F4A7C15ULL);
  auto has = [&](SV f) { return query.fields.count(std::string(f)) > 0; };

  std::string body;
  body.reserve(static_cast<std::size_t>(query.results) * 1300 + 128);
  Out o(body);
  o.raw("{\"results\":[");
  for (int i = 0; i < query.results; ++i) {
    Rng rng(base_seed + static_cast<std::uint64_t>(i) * 0xD1B54A32D192ED03ULL);
    const NatData* nat = nullptr;
    if (query.nats.empty())
      nat =
          &nats[static_cast<std::size_t>(rng.range(0, static_cast<std::int64_t>(nats.size()) - 1))];
    else
      nat = find_nat(rng.pick(query.nats));
    const bool male = query.gender.empty() ? (rng.next() & 1) != 0 : query.gender == "male";
    SV first_entry = rng.pick(male ? nat->male_first : nat->female_first);
    SV last_entry = rng.pick(nat->last);
    const bool trap = rng.unit() < query.trap_rate;
    const int trap_field = static_cast<int>(rng.range(0, 2));
    // Bad records are chosen per record, so a repeated request breaks the same records.
    const bool bad = rng.unit() < query.bad_record_rate;
    const int bad_kind = static_cast<int>(rng.range(0, 7));

    if (i) o.raw(",");
    o.raw("{");
    bool first_field = true;
    auto field = [&](SV name) {
      if (!first_field) o.raw(",");
      first_field = false;
      o.key(name);
    };
    // Bad records break a field that is there (a wrong type or value): an absent field is
    // not a fault, only login.uuid is required.
    if (has("gender")) {
      field("gender");
      o.str(bad && bad_kind == 0 ? "unknown" : male ? "male" : "female");
    }
    if (has("name")) {
      field("name");
      SV title = rng.pick(male ? nat->male_titles : nat->female_titles);
      o.raw("{\"title\":");
      o.str(v12 ? email_part(title) : std::string(title));
      o.raw(",\"first\":");
      if (bad && bad_kind == 1)
        o.num(42);
      else
        o.str(display_part(first_entry));
      o.raw(",\"last\":");
      if (trap && trap_field == 0)
        o.str(with_trap(display_part(last_entry), rng));
      else
        o.str(display_part(last_entry));
      o.raw("}");
    }
    if (has("location")) {
      field("location");
      if (bad && bad_kind == 2) {
        o.str("somewhere");
      } else {
        const auto number = rng.range(1, 9999);
        SV street = rng.pick(nat->streets);
        if (v12) {
          o.raw("{\"street\":");
          o.str(fmt::format("{} {}", number, street));
        } else {
          o.raw("{\"street\":{\"number\":");
          o.num(number);
          o.raw(",\"name\":");
          if (trap && trap_field == 1)
            o.str(with_trap(street, rng));
          else
            o.str(street);
          o.raw("}");
        }
        o.raw(",\"city\":");
        if (trap && trap_field == 2)
          o.str(with_trap(rng.pick(nat->cities), rng));
        else
          o.str(rng.pick(nat->cities));
        o.raw(",\"state\":");
        o.str(rng.pick(nat->states));
        if (!v12) {
          o.raw(",\"country\":");
          o.str(nat->country);
        }
        o.raw(",\"postcode\":");
        std::string pc = fill(nat->postcode.pattern, rng);
        if (nat->postcode.numeric && pc[0] == '0') pc[0] = '1';
        // The US is served both ways, as the real API does.
        const bool as_number = nat->postcode.numeric && !(nat->code == "US" && (rng.next() & 1));
        if (as_number || (v12 && nat->postcode.numeric))
          o.raw(pc);
        else
          o.str(pc);
        o.raw(",\"coordinates\":{\"latitude\":");
        if (bad && bad_kind == 3)
          o.str("north");
        else
          o.fixed4(rng.unit() * 180.0 - 90.0);
        o.raw(",\"longitude\":");
        o.fixed4(rng.unit() * 360.0 - 180.0);
        const auto& tz = rng.pick(kTimezones);
        o.raw("},\"timezone\":{\"offset\":");
        o.str(tz.first);
        o.raw(",\"description\":");
        o.str(tz.second);
        o.raw("}}");
      }
    }
    if (has("email")) {
      field("email");
      if (bad && bad_kind == 4) {
        o.num(42);
      } else {
        o.str(email_part(latin_part(first_entry)) + "." + email_part(latin_part(last_entry)) +
              "@example.com");
      }
    }
    if (has("login")) {
      field("login");
      o.raw("{");
      if (!(bad && bad_kind == 5)) {
        o.raw("\"uuid\":");
        o.str(uuid4(rng));
        o.raw(",");
      }
      o.raw("\"username\":");
      o.str(fmt::format("{}{}{}", rng.pick(kAdjectives), rng.pick(kAnimals), rng.range(100, 999)));
      o.raw(",\"password\":");
      o.str(rng.pick(kPasswords));
      std::string salt, md5, sha1, sha256;
      for (int k = 0; k < 8; ++k) salt += kAlnum[rng.next() % 62];
      hex(md5, rng, 32);
      hex(sha1, rng, 40);
      hex(sha256, rng, 64);
      o.raw(",\"salt\":");
      o.str(salt);
      o.raw(",\"md5\":");
      o.str(md5);
      o.raw(",\"sha1\":");
      o.str(sha1);
      o.raw(",\"sha256\":");
      o.str(sha256);
      o.raw("}");
    }
    int year = 0;
    if (has("dob")) {
      field("dob");
      // Born 1945..2005; registered 2002..2022 (as the real API's ranges do).
      auto dob = iso_date(rng.range(-788918400000LL, 1136073600000LL), &year);
      if (v12) dob = dob.substr(0, 19) + "Z";
      o.raw("{\"date\":");
      o.str(bad && bad_kind == 6 ? "not-a-date" : dob);
      o.raw(",\"age\":");
      o.num(year_now - year);
      o.raw("}");
    }
    if (has("registered")) {
      field("registered");
      const auto reg = iso_date(rng.range(1016688461000LL, 1672531199000LL), &year);
      o.raw("{\"date\":");
      o.str(reg);
      o.raw(",\"age\":");
      o.num(year_now - year);
      o.raw("}");
    }
    if (has("phone")) {
      field("phone");
      o.str(fill(nat->phone, rng));
    }
    if (has("cell")) {
      field("cell");
      o.str(fill(nat->cell, rng));
    }
    if (has("id")) {
      field("id");
      o.raw("{\"name\":");
      o.str(nat->id_name);
      o.raw(",\"value\":");
      if (nat->id_value.empty())
        o.raw("null");
      else
        o.str(fill(nat->id_value, rng));
      o.raw("}");
    }
    if (has("picture")) {
      field("picture");
      std::string pic(male ? "men/" : "women/");
      pic += std::to_string(rng.range(0, male ? 99 : 96));
      pic += ".jpg\"";
      o.raw("{\"large\":\"https://randomuser.me/api/portraits/");
      o.raw(pic);
      o.raw(",\"medium\":\"https://randomuser.me/api/portraits/med/");
      o.raw(pic);
      o.raw(",\"thumbnail\":\"https://randomuser.me/api/portraits/thumb/");
      o.raw(pic);
      o.raw("}");
    }
    if (has("nat")) {
      field("nat");
      o.str(bad && bad_kind == 7 ? "XYZ" : nat->code);
    }
    o.raw("}");
  }
  o.raw("]");
  if (!query.noinfo) {
    o.raw(",\"info\":{\"seed\":");
    o.str(seed);
    o.raw(",\"results\":");
    o.num(query.results);
    o.raw(",\"page\":");
    o.num(query.page);
    o.raw(",\"version\":");
    o.str(query.version);
    o.raw("}");
  }
  o.raw("}");
  return body;
}

}  // namespace streamflow::mockapi

#include "control/decode.h"

#include <avro.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <ctime>
#include <exception>
#include <memory>
#include <mutex>

#include "model/sanitise.h"
#include "model/text.h"

namespace streamflow::control {

using base::Errc;
using base::make_error;
using nlohmann::json;

namespace {

/// Deeper than this, a decoded value is refused rather than walked: every walk here (and
/// nlohmann's dump() in the server) recurses, and no message the pipeline writes nests past 10.
constexpr int kMaxDepth = 64;

constexpr std::string_view kRedacted = "(redacted)";

// ---- bytes as text ----------------------------------------------------------------------

/// Length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
/// nothing past U+10FFFF) starting at s[i], or 0 when there is none.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 == 0xE0) {
    n = 3, lo = 0xA0;
  } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
    n = 3;
  } else if (b0 == 0xED) {
    n = 3, hi = 0x9F;
  } else if (b0 == 0xF0) {
    n = 4, lo = 0x90;
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    n = 4;
  } else if (b0 == 0xF4) {
    n = 4, hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

bool is_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

/// `s` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD: nlohmann's
/// dump() throws on invalid UTF-8, and an Avro string or a header name is not checked by
/// anyone before it gets here.
std::string to_utf8(std::string_view s) {
  if (is_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

/// Standard base64 with padding (RFC 4648 §4): what a browser's atob() reads back.
std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1]))
                                << 8 |
                            static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += rest == 2 ? kAlphabet[v >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

/// "YYYY-MM-DDTHH:MM:SS.mmmZ", or nullopt for Kafka's "no timestamp" (-1) and instants past
/// year 9999.
std::optional<std::string> iso_utc(std::int64_t ms) {
  if (ms < 0) return std::nullopt;
  const auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (gmtime_r(&secs, &tm) == nullptr || tm.tm_year + 1900 > 9999) return std::nullopt;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

/// The deepest nesting of arrays and objects in JSON text (brackets inside strings do not
/// count), so that a deep document is refused before anything recurses into it.
int json_depth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// ---- Avro -------------------------------------------------------------------------------

/// Deleters for libavro's objects, so that every return path frees them (schemas and classes
/// are reference-counted: decref, never free).
struct SchemaFree {
  void operator()(avro_obj_t* s) const { avro_schema_decref(s); }
};
struct IfaceFree {
  void operator()(avro_value_iface_t* i) const { avro_value_iface_decref(i); }
};
struct ReaderFree {
  void operator()(avro_reader_t_* r) const { avro_reader_free(r); }
};

/// Owns one generic avro_value_t (and the memory its strings, arrays and maps hold).
class AvroValue {
 public:
  AvroValue() = default;
  ~AvroValue() {
    if (value_.iface != nullptr) avro_value_decref(&value_);
  }
  AvroValue(const AvroValue&) = delete;
  AvroValue& operator=(const AvroValue&) = delete;
  avro_value_t* get() { return &value_; }

 private:
  avro_value_t value_{nullptr, nullptr};
};

/// libavro keeps the text of its last error in one process-wide buffer: decodes are
/// serialised so that the reason reported is this decode's.
std::mutex& avro_mutex() {
  static std::mutex m;
  return m;
}

base::Error avro_error(std::string_view what) {
  const char* why = avro_strerror();
  return make_error(Errc::data_error,
                    fmt::format("{}: {}", what, why != nullptr && *why != '\0' ? why : "unknown"));
}

/// Walks Avro bytes as the writer schema says, building nothing, before libavro reads them.
/// libavro trusts the bytes too much for a browser of any topic: it allocates a string's or
/// bytes' length as the bytes claim it and leaks that allocation when they end early
/// (read_bytes/read_string in encoding_binary.c: 128 MiB leaked per bad message was seen), it
/// reads an enum's index unchecked, and it recurses once per level of a recursive schema.
/// Here every length is checked against what is left, every index against the schema, the
/// nesting against kMaxDepth and the count of array and map items against a budget (items of
/// a null or empty-record type take no bytes), so that libavro only reads bytes that fit.
class AvroChecker {
 public:
  explicit AvroChecker(std::string_view bytes)
      : bytes_(bytes), items_left_(static_cast<std::int64_t>(bytes.size()) + 1024) {}

  /// OK when one value of `schema` starts at the current position; moves past it.
  base::Result<void> value(avro_schema_t schema, int depth) {
    if (depth > kMaxDepth) {
      return fail(fmt::format("the value nests deeper than {} levels", kMaxDepth));
    }
    switch (avro_typeof(schema)) {
      case AVRO_NULL:
        return {};
      case AVRO_BOOLEAN:
        return skip(1, "a boolean");
      case AVRO_INT32: {
        auto v = varint();
        if (!v) return v.error();
        if (*v < INT32_MIN || *v > INT32_MAX) return fail("an int out of range");
        return {};
      }
      case AVRO_INT64: {
        auto v = varint();
        if (!v) return v.error();
        return {};
      }
      case AVRO_FLOAT:
        return skip(4, "a float");
      case AVRO_DOUBLE:
        return skip(8, "a double");
      case AVRO_STRING:
      case AVRO_BYTES:
        return length_and_bytes();
      case AVRO_FIXED:
        return skip(avro_schema_fixed_size(schema), "a fixed");
      case AVRO_ENUM: {
        auto v = index(avro_schema_enum_number_of_symbols(schema), "an enum");
        if (!v) return v.error();
        return {};
      }
      case AVRO_UNION: {
        auto v = index(static_cast<std::int64_t>(avro_schema_union_size(schema)), "a union");
        if (!v) return v.error();
        return value(avro_schema_union_branch(schema, static_cast<int>(*v)), depth + 1);
      }
      case AVRO_RECORD: {
        const auto n = static_cast<int>(avro_schema_record_size(schema));
        for (int i = 0; i < n; ++i) {
          if (auto r = value(avro_schema_record_field_get_by_index(schema, i), depth + 1); !r) {
            return r;
          }
        }
        return {};
      }
      case AVRO_ARRAY:
        return blocks(avro_schema_array_items(schema), false, depth);
      case AVRO_MAP:
        return blocks(avro_schema_map_values(schema), true, depth);
      case AVRO_LINK:
        return value(avro_schema_link_target(schema), depth);
      default:
        return fail(
            fmt::format("Avro type {} is not supported", static_cast<int>(avro_typeof(schema))));
    }
  }

  std::size_t used() const { return pos_; }

 private:
  base::Error fail(std::string_view why) const {
    return make_error(
        Errc::data_error,
        fmt::format("the bytes do not match the writer schema: {} (at byte {})", why, pos_));
  }

  /// A zigzag varint long, at most 10 bytes.
  base::Result<std::int64_t> varint() {
    std::uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      if (shift > 63) return fail("a number longer than 10 bytes");
      if (pos_ >= bytes_.size()) return fail("the bytes end inside a number");
      const auto b = static_cast<unsigned char>(bytes_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) break;
    }
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
  }

  base::Result<void> skip(std::int64_t n, std::string_view what) {
    if (n < 0 || static_cast<std::uint64_t>(n) > bytes_.size() - pos_) {
      return fail(fmt::format("{} of {} bytes with {} left", what, n, bytes_.size() - pos_));
    }
    pos_ += static_cast<std::size_t>(n);
    return {};
  }

  base::Result<void> length_and_bytes() {
    auto n = varint();
    if (!n) return n.error();
    return skip(*n, "a string or bytes");
  }

  /// An enum's or a union's index, checked against how many there are.
  base::Result<std::int64_t> index(std::int64_t count, std::string_view what) {
    auto v = varint();
    if (!v) return v.error();
    if (*v < 0 || *v >= count) {
      return fail(fmt::format("{} index {} of {}", what, *v, count));
    }
    return v;
  }

  /// An array's or a map's blocks: a count (negative: followed by the block's size in bytes),
  /// that many items (a map's each after its key), until a count of 0.
  base::Result<void> blocks(avro_schema_t items, bool keyed, int depth) {
    while (true) {
      auto count = varint();
      if (!count) return count.error();
      if (*count == 0) return {};
      if (*count < 0) {
        if (*count == INT64_MIN) return fail("a block count out of range");
        *count = -*count;
        if (auto size = varint(); !size) return size.error();
      }
      if (*count > items_left_) return fail(fmt::format("a block of {} items", *count));
      items_left_ -= *count;
      for (std::int64_t i = 0; i < *count; ++i) {
        if (keyed) {
          if (auto r = length_and_bytes(); !r) return r;
        }
        if (auto r = value(items, depth + 1); !r) return r;
      }
    }
  }

  std::string_view bytes_;
  std::size_t pos_ = 0;
  std::int64_t items_left_;  ///< array and map items still allowed in this datum
};

/// A float as the shortest decimal that reads back as the same float (1.1f is shown as 1.1,
/// not as the double 1.100000023841858).
json float_json(float f) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), f);
  double d = 0;
  if (ec != std::errc{} || std::from_chars(buf, end, d).ec != std::errc{}) {
    return json(static_cast<double>(f));  // NaN and infinities: dump() writes null
  }
  return json(d);
}

base::Result<json> to_json(avro_value_t* v, int depth);

/// Records and maps (members by name) and arrays (name is null): every child in order.
base::Result<json> children_to_json(avro_value_t* v, bool named, int depth) {
  std::size_t n = 0;
  if (avro_value_get_size(v, &n) != 0) return avro_error("reading a record, map or array");
  json out = named ? json::object() : json::array();
  for (std::size_t i = 0; i < n; ++i) {
    avro_value_t child;
    const char* name = nullptr;
    if (avro_value_get_by_index(v, i, &child, &name) != 0) return avro_error("reading a member");
    auto item = to_json(&child, depth + 1);
    if (!item) return item.error();
    if (named) {
      out[to_utf8(name != nullptr ? name : "")] = std::move(*item);
    } else {
      out.push_back(std::move(*item));
    }
  }
  return out;
}

/// One Avro value as JSON; see avro_to_json for the mapping.
base::Result<json> to_json(avro_value_t* v, int depth) {
  if (depth > kMaxDepth) {
    return make_error(Errc::data_error,
                      fmt::format("the value nests deeper than {} levels", kMaxDepth));
  }
  switch (avro_value_get_type(v)) {
    case AVRO_NULL:
      return json(nullptr);
    case AVRO_BOOLEAN: {
      int b = 0;
      if (avro_value_get_boolean(v, &b) != 0) return avro_error("reading a boolean");
      return json(b != 0);
    }
    case AVRO_INT32: {
      std::int32_t i = 0;
      if (avro_value_get_int(v, &i) != 0) return avro_error("reading an int");
      return json(i);
    }
    case AVRO_INT64: {
      std::int64_t l = 0;
      if (avro_value_get_long(v, &l) != 0) return avro_error("reading a long");
      return json(l);
    }
    case AVRO_FLOAT: {
      float f = 0;
      if (avro_value_get_float(v, &f) != 0) return avro_error("reading a float");
      return float_json(f);
    }
    case AVRO_DOUBLE: {
      double d = 0;
      if (avro_value_get_double(v, &d) != 0) return avro_error("reading a double");
      return json(d);
    }
    case AVRO_STRING: {
      const char* p = nullptr;
      std::size_t n = 0;
      if (avro_value_get_string(v, &p, &n) != 0) return avro_error("reading a string");
      if (n > 0 && p[n - 1] == '\0') --n;  // libavro counts the terminating NUL
      return json(to_utf8(std::string_view(p != nullptr ? p : "", n)));
    }
    case AVRO_BYTES: {
      const void* p = nullptr;
      std::size_t n = 0;
      if (avro_value_get_bytes(v, &p, &n) != 0) return avro_error("reading bytes");
      return json(base64(std::string_view(static_cast<const char*>(p), p != nullptr ? n : 0)));
    }
    case AVRO_FIXED: {
      const void* p = nullptr;
      std::size_t n = 0;
      if (avro_value_get_fixed(v, &p, &n) != 0) return avro_error("reading a fixed");
      return json(base64(std::string_view(static_cast<const char*>(p), p != nullptr ? n : 0)));
    }
    case AVRO_ENUM: {
      int index = 0;
      if (avro_value_get_enum(v, &index) != 0) return avro_error("reading an enum");
      // libavro reads an enum's index without checking it against the symbols, and
      // avro_schema_enum_get does not check it either.
      avro_schema_t schema = avro_value_get_schema(v);
      const char* symbol =
          schema != nullptr && index >= 0 && index < avro_schema_enum_number_of_symbols(schema)
              ? avro_schema_enum_get(schema, index)
              : nullptr;
      if (symbol == nullptr) {
        return make_error(Errc::data_error, fmt::format("enum index {} has no symbol", index));
      }
      return json(to_utf8(symbol));
    }
    case AVRO_RECORD:
    case AVRO_MAP:
      return children_to_json(v, true, depth);
    case AVRO_ARRAY:
      return children_to_json(v, false, depth);
    case AVRO_UNION: {
      avro_value_t branch;
      if (avro_value_get_current_branch(v, &branch) != 0) return avro_error("reading a union");
      return to_json(&branch, depth + 1);
    }
    default:
      return make_error(Errc::data_error, fmt::format("Avro type {} is not supported",
                                                      static_cast<int>(avro_value_get_type(v))));
  }
}

// ---- what must not be shown ---------------------------------------------------------------

/// The pipeline's own forms of a hashed id: "hmac-sha256:<64 hex>" (sanitised payloads) or 64
/// hex digits (staging's id_hash). Anything shorter is not taken for a hash: "hmac-sha256:"
/// followed by the nine digits of an SSN is still an SSN.
bool looks_hashed(std::string_view s) {
  if (s.starts_with("hmac-sha256:")) s.remove_prefix(12);
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

/// How the members below a key are shown: as they are, every scalar redacted (below a national
/// id's name), or as randomuser's id object ({"name": "SSN", "value": ...}: the value is the id).
enum class Treatment { keep, redact, id_object };

/// Drops credentials and redacts national ids in place, at any depth (see decode_message).
void protect(json& j, Treatment treatment, int depth) {
  if (depth > kMaxDepth) {  // unreachable: decoding already refused deeper values
    j = kRedacted;
    return;
  }
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end();) {
      if (model::is_credential_key(it.key())) {
        it = j.erase(it);
        continue;
      }
      const std::string lower = model::ascii_lower(it.key());
      Treatment inner = Treatment::keep;
      if (treatment == Treatment::redact || model::is_national_id_key(it.key()) ||
          (treatment == Treatment::id_object && lower == "value")) {
        inner = Treatment::redact;
      } else if (lower == "id" && it.value().is_object()) {
        inner = Treatment::id_object;
      }
      protect(it.value(), inner, depth + 1);
      ++it;
    }
  } else if (j.is_array()) {
    for (auto& item : j) protect(item, treatment, depth + 1);
  } else if (treatment == Treatment::redact) {
    // A number is redacted too: an SSN sent as 123456789 is still an SSN.
    if ((j.is_string() && !j.get_ref<const std::string&>().empty() &&
         !looks_hashed(j.get_ref<const std::string&>())) ||
        j.is_number()) {
      j = kRedacted;
    }
  }
}

// ---- one key or value -------------------------------------------------------------------

/// A key or a value as the browser shows it.
struct Decoded {
  json value;
  std::string encoding;
  std::optional<int> schema_id;  ///< when the bytes carry the wire header
  std::optional<std::string> error;
};

Decoded binary(std::string_view bytes) { return {json(base64(bytes)), "binary", {}, {}}; }

/// The writer schema for `id`, never throwing: the lookup is the caller's code (an HTTP client
/// that may throw), and a browser page must not fail because one schema could not be fetched.
base::Result<std::string> lookup_schema(const SchemaLookup& lookup, int id) {
  if (!lookup) return make_error(Errc::unavailable, "no schema registry to look it up in");
  try {
    return lookup(id);
  } catch (const std::exception& e) {
    return make_error(Errc::internal, std::string("the schema lookup failed: ") + e.what());
  }
}

Decoded decode_part(const std::optional<std::string>& bytes, const SchemaLookup& lookup) {
  if (!bytes) return {json(nullptr), "null", {}, {}};
  const std::string_view b = *bytes;
  if (const auto id = wire_schema_id(b)) {
    Decoded out = binary(b);
    out.schema_id = id;
    auto schema = lookup_schema(lookup, *id);
    if (!schema) {
      out.error = fmt::format("schema id {}: {}", *id, schema.error().describe());
      return out;
    }
    auto decoded = avro_to_json(b.substr(5), *schema);
    if (!decoded) {
      out.error = fmt::format("Avro with schema id {}: {}", *id, decoded.error().describe());
      return out;
    }
    out.value = std::move(*decoded);
    out.encoding = "avro";
    return out;
  }
  if (!is_utf8(b)) return binary(b);
  if (json::accept(b)) {
    if (json_depth(b) > kMaxDepth) {
      return {json(nullptr),
              "json",
              {},
              fmt::format("JSON nested deeper than {} levels is not shown", kMaxDepth)};
    }
    return {json::parse(b, nullptr, false), "json", {}, {}};
  }
  return {json(std::string(b)), "text", {}, {}};
}

}  // namespace

std::optional<int> wire_schema_id(std::string_view bytes) {
  if (bytes.size() < 5 || bytes[0] != '\0') return std::nullopt;
  std::uint32_t id = 0;
  for (std::size_t i = 1; i < 5; ++i) id = id << 8 | static_cast<unsigned char>(bytes[i]);
  return static_cast<int>(static_cast<std::int32_t>(id));
}

base::Result<json> avro_to_json(std::string_view avro_binary,
                                const std::string& writer_schema_json) {
  std::lock_guard lock(avro_mutex());
  avro_schema_t raw_schema = nullptr;
  if (avro_schema_from_json_length(writer_schema_json.data(), writer_schema_json.size(),
                                   &raw_schema) != 0) {
    if (raw_schema != nullptr) avro_schema_decref(raw_schema);
    return avro_error("the writer schema does not parse");
  }
  std::unique_ptr<avro_obj_t, SchemaFree> schema(raw_schema);
  std::unique_ptr<avro_value_iface_t, IfaceFree> iface(
      avro_generic_class_from_schema(schema.get()));
  if (!iface) return avro_error("no decoder for the writer schema");
  AvroChecker checker(avro_binary);
  if (auto r = checker.value(schema.get(), 0); !r) return r.error();
  if (checker.used() != avro_binary.size()) {
    return make_error(Errc::data_error,
                      fmt::format("{} of {} bytes left after the value: the writer schema is not "
                                  "the one the bytes were written with",
                                  avro_binary.size() - checker.used(), avro_binary.size()));
  }
  AvroValue value;
  if (avro_generic_value_new(iface.get(), value.get()) != 0) {
    return avro_error("no value for the writer schema");
  }
  std::unique_ptr<avro_reader_t_, ReaderFree> reader(
      avro_reader_memory(avro_binary.empty() ? "" : avro_binary.data(),
                         static_cast<std::int64_t>(avro_binary.size())));
  if (!reader) return avro_error("no reader for the bytes");
  if (avro_value_read(reader.get(), value.get()) != 0) {
    return avro_error("the bytes do not match the writer schema");
  }
  return to_json(value.get(), 0);
}

nlohmann::json decode_message(const RawMessage& m, const SchemaLookup& lookup) {
  std::vector<std::string> errors;
  Decoded key = decode_part(m.key, lookup);
  Decoded value = decode_part(m.value, lookup);
  if (key.error) errors.push_back("key: " + *key.error);
  if (value.error) errors.push_back("value: " + *value.error);
  protect(key.value, Treatment::keep, 0);
  protect(value.value, Treatment::keep, 0);

  json headers = json::array();
  for (const auto& [name, bytes] : m.headers) {
    if (model::is_credential_key(name)) continue;
    json h = json::object();
    h["key"] = to_utf8(name);
    if (!bytes) {
      h["value"] = nullptr;
      h["value_encoding"] = "null";
    } else if (is_utf8(*bytes)) {
      h["value"] = *bytes;
      h["value_encoding"] = "text";
    } else {
      h["value"] = base64(*bytes);
      h["value_encoding"] = "binary";
    }
    if (model::is_national_id_key(name) && bytes && !bytes->empty() && !looks_hashed(*bytes)) {
      h["value"] = kRedacted;
    }
    headers.push_back(std::move(h));
  }

  json out = json::object();
  out["offset"] = m.offset;
  const auto when = iso_utc(m.timestamp_ms);
  out["timestamp"] = when ? json(*when) : json(nullptr);
  out["key"] = std::move(key.value);
  out["key_encoding"] = key.encoding;
  out["value"] = std::move(value.value);
  out["value_encoding"] = value.encoding;
  out["schema_id"] = value.schema_id ? json(*value.schema_id) : json(nullptr);
  out["headers"] = std::move(headers);
  if (!errors.empty()) {
    std::string joined;
    for (const auto& e : errors) joined += (joined.empty() ? "" : "; ") + e;
    out["error"] = joined;
  }
  return out;
}

}  // namespace streamflow::control

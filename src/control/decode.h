#pragma once
/// What the control room's message browser shows of a Kafka message: its key, value and headers
/// decoded for a reader (Confluent-framed Avro through the schema registry, JSON, text, or
/// base64 of the bytes), with credentials dropped and national ids redacted whatever the topic
/// holds. The pipeline strips those upstream; this is defence in depth, so that the browser
/// can never become the place where a secret is read. Pure: no I/O (the registry is reached
/// through the SchemaLookup the caller hands in).

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace streamflow::control {

/// One Kafka message as read from a partition, bytes untouched. nullopt is Kafka's null (a
/// tombstone's value, a message without a key), which is not the same as zero bytes.
struct RawMessage {
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = -1;  ///< -1 when the message carries none
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

/// The schema id of Confluent's wire format (byte 0x00, then the id as 4 bytes big-endian,
/// then the Avro binary), or nullopt when `bytes` is not framed that way (shorter than 5
/// bytes or another first byte). The id is read as a signed 32-bit number, as Confluent does.
std::optional<int> wire_schema_id(std::string_view bytes);

/// Decodes one Avro binary datum (without the wire header) written with `writer_schema_json`
/// into JSON: records → objects (members in key order: nlohmann::json sorts them), unions →
/// the chosen branch's value itself (no {"type": value} wrapping), enums → their symbol,
/// bytes and fixed → standard base64 with padding (RFC 4648 §4), maps → objects, logical types
/// → their underlying value (a timestamp-millis is its long). data_error, with libavro's
/// reason, when the schema does not parse, the bytes end early, bytes are left over after the
/// datum (the schema is not the one it was written with), or it nests deeper than 64 levels.
/// Thread-safe: calls are serialised, since libavro keeps its last error in one process-wide
/// buffer.
base::Result<nlohmann::json> avro_to_json(std::string_view avro_binary,
                                          const std::string& writer_schema_json);

/// The writer schema (JSON text) the schema registry holds under a wire-format id. decode_message
/// calls it for every framed key and value, so a caller browsing many messages should cache.
using SchemaLookup = std::function<base::Result<std::string>(int id)>;

/// The browser's view of one message:
///   {"offset", "timestamp": ISO-8601 UTC with milliseconds ("2024-05-01T12:00:00.123Z") or
///    null, "key", "key_encoding", "value", "value_encoding", "schema_id": the value's wire id
///    (also when its decoding failed) or null, "headers": [{"key", "value", "value_encoding"}],
///    "error": only when something could not be decoded, saying what and why}.
/// A key or value is tried in this order: null → null ("null"); Confluent wire format →
/// the registry's writer schema and Avro ("avro"); UTF-8 JSON text → the parsed JSON ("json");
/// UTF-8 → the string ("text"); otherwise → base64 of the bytes ("binary"). A framed value
/// whose schema cannot be found or whose bytes do not decode falls back to "binary", with the
/// reason in "error". JSON nested deeper than 64 levels is not shown (null, with an error).
/// Header values are shown as text when they are UTF-8, else base64 ("text" / "binary";
/// "null" for a null value). Then, at any depth of a decoded key or value and among the
/// headers: members named as credentials (model::is_credential_key: password, salt, *hash...)
/// are dropped; under a national-id name (model::is_national_id_key: ssn, nino, ...) every
/// non-empty string or number that is not already a hash (64 hex digits, with or without
/// "hmac-sha256:") becomes "(redacted)", as does the "value" of an {"name", "value"} object
/// under "id" (randomuser's id). Never throws; thread-safe if `lookup` is.
nlohmann::json decode_message(const RawMessage& m, const SchemaLookup& lookup);

}  // namespace streamflow::control

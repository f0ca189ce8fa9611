#pragma once
/// Pure pieces of ingestion: COPY text rows for the staging tables, deterministic batch ids,
/// and the retry backoff. No I/O; unit-tested.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "model/user.h"

namespace streamflow::ingest {

/// Column list of staging.users as written by COPY, in row order.
extern const char* const kUserColumns;
/// Columns compared to decide whether an upsert changes a row (all data columns).
extern const char* const kUserDataColumns;

/// COPY binary format: PostgreSQL then skips parsing text into uuid, timestamptz and integers.
/// A stream is copy_binary_header(), rows, copy_binary_trailer().
void copy_binary_header(std::string& out);
void copy_binary_trailer(std::string& out);
/// Appends one staging.users row in COPY binary format (columns as kUserColumns).
void append_user_row_binary(std::string& out, const model::User& user, std::string_view batch_id);

/// A validated ISO 8601 timestamp (model::is_timestamp) as microseconds since
/// 2000-01-01T00:00:00Z, PostgreSQL's timestamptz; no zone means UTC; digits past the
/// microsecond are rounded half up, as PostgreSQL's text input does.
std::int64_t timestamp_micros(std::string_view iso);

/// 16 bytes of a canonical 8-4-4-4-12 UUID.
std::string uuid_bytes(std::string_view uuid);

/// Appends one row of (batch_id, source, record_index, user_id, reason, payload).
void append_reject_row(std::string& out, const model::Reject& reject, std::string_view batch_id,
                       std::string_view source);

/// A UUID derived from `key` (SHA-256, RFC 4122 variant, version 8): the same batch asked
/// again gets the same id, which makes re-runs idempotent for rejects and batch records.
std::string derived_uuid(std::string_view key);

/// How long to wait before retry number `attempt` (0-based): exponential from `base` up to
/// `cap` with "equal jitter" (half fixed, half random from `jitter_unit` in [0,1)); a
/// Retry-After from the server wins when given (capped at 5 minutes).
struct BackoffPolicy {
  std::chrono::milliseconds base{250};
  std::chrono::milliseconds cap{10000};
};
std::chrono::milliseconds backoff_delay(int attempt, std::optional<int> retry_after_s,
                                        double jitter_unit, const BackoffPolicy& policy = {});

}  // namespace streamflow::ingest

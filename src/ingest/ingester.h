#pragma once
/// `streamflow ingest`: fetches users from a randomuser.me-compatible API (or a saved response
/// file) and stages them in PostgreSQL. Several workers, each with its own HTTP and database
/// connection, pull page numbers from a shared counter: wait for the API host's next request
/// slot (pacing.h) -> fetch (with retries) -> decode -> write one transaction. A run with the
/// same seed asks for the same pages and lands nothing new. A dry run decodes and validates
/// only, with no database. Progress goes to stderr; the one-line JSON summary to stdout.

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "base/result.h"
#include "model/user.h"

namespace streamflow::ingest {

struct Options {
  std::string url;            ///< API base URL, e.g. http://127.0.0.1:8787/api/
  std::int64_t count = 5000;  ///< records to ask for (ignored when continuous)
  bool continuous = false;    ///< run until stopped
  double rate = 0;            ///< records/s to aim for (0: as fast as possible)
  int batch_size = 5000;      ///< records per request, 1..5000
  int concurrency = 4;        ///< requests in flight
  std::string seed;           ///< "" -> a fresh random seed for this run
  std::string nat;            ///< comma list passed to the API
  int max_retries = 6;
  int timeout_s = 30;
  std::optional<std::filesystem::path> file;  ///< ingest this saved response instead
  std::string pg_conninfo;
  std::string id_hash_key;
  bool progress = true;
  bool dry_run = false;       ///< decode and validate only: no PostgreSQL, nothing written
  double requests_per_s = 0;  ///< most requests per second to the API host (0: no limit)
  /// Called with each reject (its payload already sanitised) as the batch holding it is
  /// decoded; calls are serialised. `source` is the URL or file:<path>.
  std::function<void(const model::Reject&, const std::string& source)> on_reject;
};

struct Summary {
  std::string source;
  std::string seed;
  std::int64_t batches = 0, failed_batches = 0, fetched = 0, valid = 0, inserted = 0, updated = 0,
               unchanged = 0, rejected = 0, retries = 0;
  bool dry_run = false;
  double seconds = 0;
  std::string first_error;  ///< the first failure, for the log
  std::string to_json() const;
};

/// Runs to completion (or until `stop` becomes true). The Summary is returned even when some
/// batches failed; the Error then says which kind failed (unavailable: the API; io_error:
/// PostgreSQL; data_error: an unusable --file).
struct Outcome {
  Summary summary;
  std::optional<base::Error> error;
};
Outcome run(const Options& options, const std::atomic<bool>& stop);

/// One reject as a JSON line for `ingest --show-rejects`:
/// {"reject": index, "reason": ..., "uuid": ... | null, "payload": {...}}.
std::string reject_json(const model::Reject& reject);

}  // namespace streamflow::ingest

#pragma once
/// Writing rows from a file (`streamflow cql --rows-from`): one prepared statement run once per
/// row of a TSV text in the format `streamflow cql` prints, with many requests in flight.

#include <cstdint>
#include <string>

#include "base/result.h"
#include "cql/cql.h"

namespace streamflow::cql {

struct LoadReport {
  std::uint64_t rows = 0;
  double seconds = 0;
  int concurrency = 0;
  /// {"rows":...,"seconds":...,"rows_per_s":...,"concurrency":...}
  std::string to_json() const;
};

/// Runs `statement` (its ? markers take a row's fields, in order) once per row of `tsv` (a
/// header line of column names, then rows, \N for null), `concurrency` requests at a time.
/// invalid_argument when the rows' columns do not match the markers or the text is not TSV.
base::Result<LoadReport> load_rows(Session& session, const std::string& statement,
                                   const std::string& tsv, int concurrency);

}  // namespace streamflow::cql

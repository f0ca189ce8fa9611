#pragma once
/// Printing query answers for people and scripts (`streamflow cql`). Pure.

#include <string>

#include "base/result.h"
#include "cql/cql.h"

namespace streamflow::cql {

/// A header line of column names, then one line per row, fields separated by tabs. Backslash,
/// tab, newline and carriage return inside values are escaped (\\ \t \n \r) and null is \N, so
/// every line is one row and null differs from the empty string. No columns: "".
std::string format_tsv(const Rows& rows);

/// The inverse of format_tsv: the header line gives the columns, each further line a row.
/// invalid_argument (naming the line) for a row with the wrong number of fields or a bad escape.
base::Result<Rows> parse_tsv(const std::string& text);

/// A JSON array with one object per row, keys in column order, null as JSON null.
std::string format_json(const Rows& rows);

}  // namespace streamflow::cql

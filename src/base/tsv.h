#pragma once
/// One field of tab-separated text in PostgreSQL's COPY text format, which `streamflow cql`
/// prints and reads too: backslash, tab, newline and carriage return escaped, null as \N.

#include <optional>
#include <string>
#include <string_view>

namespace streamflow::base {

/// Appends `value` escaped, or \N for nullopt.
void append_tsv_field(std::string& out, const std::optional<std::string_view>& value);

}  // namespace streamflow::base

#include "cql/load.h"

#include <fmt/format.h>

#include <chrono>

#include "cql/format.h"

namespace streamflow::cql {

std::string LoadReport::to_json() const {
  return fmt::format(R"({{"rows":{},"seconds":{:.3f},"rows_per_s":{:.0f},"concurrency":{}}})", rows,
                     seconds, seconds > 0 ? static_cast<double>(rows) / seconds : 0.0, concurrency);
}

base::Result<LoadReport> load_rows(Session& session, const std::string& statement,
                                   const std::string& tsv, int concurrency) {
  auto input = parse_tsv(tsv);
  if (!input) return input.error();
  auto prepared = session.prepare(statement);
  if (!prepared) return prepared.error();
  if (prepared->columns().size() != input->columns.size()) {
    return base::make_error(base::Errc::invalid_argument,
                            fmt::format("the statement has {} ? markers, the rows have {} columns",
                                        prepared->columns().size(), input->columns.size()));
  }
  const auto start = std::chrono::steady_clock::now();
  auto written = session.execute_batch(*prepared, input->rows, concurrency);
  if (!written) return written.error();
  LoadReport report;
  report.rows = *written;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.concurrency = concurrency;
  return report;
}

}  // namespace streamflow::cql

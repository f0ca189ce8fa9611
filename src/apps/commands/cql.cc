// `streamflow cql`: one CQL statement against the stack's Cassandra, or one per row of a file.

#include "cql/cql.h"

#include <iostream>
#include <iterator>

#include "apps/command.h"
#include "base/fs.h"
#include "cql/format.h"
#include "cql/load.h"
#include "deploy/layout.h"

namespace streamflow::apps {
namespace {

struct Cql final : Command {
  std::string statement;
  std::optional<std::string> keyspace;
  std::vector<std::string> params;
  bool json = false;
  std::optional<std::string> rows_from;
  int concurrency = 64;

  int run(const config::Settings& settings) override {
    auto found = deploy::Layout::load(settings);
    if (!found) return report(found.error());
    const auto layout = std::move(*found);
    cql::ConnectOptions options;
    options.contact_point = layout.cassandra_contact_point();
    auto session = cql::Session::connect(options);
    if (!session) return report(session.error());
    const auto use = keyspace.value_or(layout.cassandra_keyspace);
    if (!use.empty()) {
      if (auto r = session->use_keyspace(use); !r) return report(r.error());
    }
    if (rows_from) {
      std::string text;
      if (*rows_from == "-") {
        text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      } else {
        auto content = base::read_file(*rows_from);
        if (!content) return report(content.error());
        text = std::move(*content);
      }
      auto loaded = cql::load_rows(*session, statement, text, concurrency);
      if (!loaded) return report(loaded.error());
      std::cout << loaded->to_json() << std::endl;
      return 0;
    }
    auto rows = session->query(statement, cql::Params(params.begin(), params.end()));
    if (!rows) return report(rows.error());
    std::cout << (json ? cql::format_json(*rows) : cql::format_tsv(*rows));
    return 0;
  }
  void add_options(CLI::App& cmd) override {
    cmd.add_option("statement", statement, "e.g. \"SELECT * FROM users LIMIT 5\"")->required();
    cmd.add_option("-k,--keyspace", keyspace,
                   "keyspace of unqualified table names (default: setting cassandra.keyspace; "
                   "\"\" for none)");
    cmd.add_option("-p,--param", params,
                   "value of the next ? marker, as text converted to its column's type "
                   "(repeatable)");
    cmd.add_flag("--json", json, "print a JSON array of objects, one per row");
    cmd.add_option("--rows-from", rows_from,
                   "run the statement (with ? markers) once per row of this TSV file, in the "
                   "format the command prints (header line, \\N for null; '-' for stdin), "
                   "and print a JSON summary with the write rate");
    cmd.add_option("--concurrency", concurrency, "with --rows-from: requests in flight")
        ->check(CLI::Range(1, 4096));
    cmd.footer(R"(Rows print as a header line of column names, then one tab-separated line
per row (null is \N; backslash, tab and newline are escaped as \\, \t, \n), or as a JSON
array with --json.)");
  }
};

[[maybe_unused]] const bool kCqlRegistered = register_command<Cql>(
    {70, "cql", "run one CQL statement against the local stack's Cassandra and print its rows"});

}  // namespace
}  // namespace streamflow::apps

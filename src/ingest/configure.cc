#include "ingest/configure.h"

#include "base/net.h"
#include "config/secrets.h"
#include "io/http.h"

namespace streamflow::ingest {

base::Result<void> configure(Options& o, const config::Settings& s, const Overrides& overrides) {
  o.url = overrides.url.value_or(s.get("ingest.url"));
  if (o.url.empty()) o.url = "http://127.0.0.1:" + s.get("mock_api.port") + "/api/";
  o.batch_size = overrides.batch_size.value_or(static_cast<int>(s.get_int("ingest.batch_size")));
  o.concurrency = overrides.concurrency.value_or(static_cast<int>(s.get_int("ingest.concurrency")));
  o.max_retries = overrides.max_retries.value_or(static_cast<int>(s.get_int("ingest.max_retries")));
  o.timeout_s = overrides.timeout_s.value_or(static_cast<int>(s.get_int("ingest.timeout_s")));
  o.nat = overrides.nat.value_or(s.get("ingest.nat"));
  // Politeness: the local mock may be asked flat out; any other host gets the low default.
  auto api = io::Url::parse(o.url);
  const bool local_api = api && base::is_loopback_host(api->host);
  o.requests_per_s =
      s.get_double(local_api ? "ingest.local_requests_per_s" : "ingest.requests_per_s");
  if (!o.dry_run) {
    auto conninfo = config::pipeline_conninfo(s, "streamflow-ingest");
    if (!conninfo) return conninfo.error();
    o.pg_conninfo = *conninfo;
  }
  auto key = config::secret(s, "ingest.id_hash_key", "id_hash.key", true);
  if (!key) return key.error();
  o.id_hash_key = *key;
  return {};
}

}  // namespace streamflow::ingest

#include "serve/run.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "serve/api.h"
#include "serve/store.h"

namespace streamflow::serve {

base::Result<void> run_until(const deploy::Layout& layout, const RunOptions& options,
                             ServiceProber prober, const std::atomic<bool>& stop,
                             std::ostream& out) {
  HealthMonitor monitor(layout, options.pg_conninfo, std::move(prober), options.refresh_ms);
  const auto clock = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  cql::ConnectOptions cassandra_options;
  cassandra_options.contact_point = layout.cassandra_contact_point();
  CqlStore cassandra(cassandra_options, layout.cassandra_keyspace);
  CachingStore store(cassandra, options.refresh_ms, clock);
  Api api(
      store, [&monitor] { return monitor.latest().first; }, clock);
  RequestStats stats;
  // The control room sees the services through the monitor's probes (no second round of them).
  control::ControlRoom room(layout, options.control, [&monitor] {
    const auto h = monitor.latest().first;
    control::PipelineFacts f;
    for (const auto& s : h.services) f.services.emplace_back(s.name, s.healthy);
    f.freshness_s = h.freshness_s;
    f.dead_letters = h.dead_letters;
    f.slot_retained_wal_bytes = h.slot_retained_wal_bytes;
    return f;
  });
  // ... and the CDC stage shows the control room watchdog's stall.
  monitor.set_capture_stall([&room] { return room.capture_stalled_s(); });
  Server server(options.server, api, monitor, stats, room);
  monitor.start();
  if (auto r = server.start(); !r) {
    monitor.stop();
    return r.error();
  }
  room.start();
  out << fmt::format(
             "serve listening on http://{}:{}/ (dashboard), /api/v1/ (API), /metrics; Ctrl-C "
             "stops it\n",
             options.server.host, options.server.port)
      << std::flush;
  while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  room.stop();
  monitor.stop();  // first: it releases the live-update streams
  server.stop();
  return {};
}

}  // namespace streamflow::serve

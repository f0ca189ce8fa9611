// The I/O half of cassandra_view.h, in a file of its own so that the pure half and its tests
// link without the CQL bridge (a Rust static library).

#include "base/log.h"
#include "control/cassandra_view.h"

namespace streamflow::control {

namespace {

/// How many more times system.local is asked for nodes still missing from the ring tables:
/// the driver picks a node at random per query, so a few tries reach a given one of a small
/// ring with high probability, at the cost of a read of one local row each.
constexpr int kExtraLocalReads = 6;

void append_rows(cql::Rows& into, cql::Rows&& rows) {
  if (into.columns.empty()) into.columns = rows.columns;
  if (rows.columns != into.columns) return;  // the aliased queries keep one column list
  for (auto& r : rows.rows) into.rows.push_back(std::move(r));
}

}  // namespace

base::Result<nlohmann::json> cassandra_nodes(cql::Session& session,
                                             const std::vector<NodeProbe>& probes) {
  auto log = base::logger("control");
  cql::Rows gossip;
  if (auto g = session.query(kGossipQuery)) {
    gossip = std::move(*g);
  } else {
    log->info("gossip_info unreadable, ring tables only: {}", g.error().describe());
  }

  auto local = session.query(kLocalQuery);
  if (!local) {
    auto e = local.error();
    e.message = "reading the ring from system.local: " + e.message;
    return e;
  }
  cql::Rows ring = std::move(*local);
  if (auto peers = session.query(kPeersV2Query)) {
    append_rows(ring, std::move(*peers));
  } else {
    log->info("system.peers_v2 unreadable: {}", peers.error().describe());
  }

  // A node already in the ring tables read again adds nothing: build_nodes keeps its first row.
  for (int i = 0; i < kExtraLocalReads && !ring_rows_missing(gossip, ring, probes).empty(); ++i) {
    auto again = session.query(kLocalQuery);
    if (!again) break;
    append_rows(ring, std::move(*again));
  }
  return build_nodes(gossip, ring, probes);
}

}  // namespace streamflow::control

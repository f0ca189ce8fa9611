#pragma once
/// The control room's view of the Cassandra ring: every node, its place (data centre, rack),
/// its gossip status and whether it serves. `build_nodes` (pure) shapes what the cluster says
/// about itself plus the caller's own probes; `cassandra_nodes` asks the cluster through the
/// CQL bridge (defined in cassandra_nodes.cc, so that the pure half links without the bridge).

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"
#include "cql/cql.h"

namespace streamflow::control {

/// Whether the caller reached one node's CQL port. Gossip is what one node believes about
/// the others and lags a crash by seconds; a probe of our own is the first-hand answer.
struct NodeProbe {
  std::string address;  ///< "127.0.0.2", or "host:port" / "[v6]:port" (the port is ignored)
  bool reachable = false;
};

/// Gossip from `system_views.gossip_info` (Cassandra 4.1+). Its column names come from
/// Cassandra 5.0's GossipInfoTable: `address`, `port`, then one lower-cased column per gossip
/// ApplicationState (`status`, `status_with_port`, `load`, `dc`, `rack`, `host_id`,
/// `release_version`...). It has no column for the TOKENS state, hence the ring tables.
inline constexpr const char* kGossipQuery =
    "SELECT address, port, status, status_with_port, load, dc, rack, host_id, release_version "
    "FROM system_views.gossip_info";
/// The ring tables, aliased to one set of column names so that their rows can be appended to
/// each other: the answering node itself, then what it knows of its peers.
inline constexpr const char* kLocalQuery =
    "SELECT broadcast_address AS address, host_id, data_center, rack, release_version, tokens "
    "FROM system.local";
inline constexpr const char* kPeersV2Query =
    "SELECT peer AS address, host_id, data_center, rack, release_version, tokens "
    "FROM system.peers_v2";

/// What a node's state is, from its gossip STATUS word (the text before the first comma of
/// `status_with_port` or `status`) and the caller's probe:
///   down     the probe failed, or gossip says shutdown, LEFT, removed or hibernate
///   joining  BOOT, BOOT_REPLACE, or no STATUS yet (gossiping, not yet announced in the ring)
///   leaving  LEAVING, LEAVE, removing
///   up       anything else (NORMAL, MOVING)
/// Exposed for tests.
std::string node_state(const std::string& status_word, bool probed, bool reachable);

/// {"nodes":[{"address","host_id","datacenter","rack","status","state","load_bytes",
/// "release_version","tokens"}]}, ordered by address. `gossip` holds rows of kGossipQuery,
/// `ring` rows of kLocalQuery and kPeersV2Query (appended, either may be empty). Gossip is
/// preferred for every field it has; `tokens` (a count) comes from the ring tables only,
/// `load_bytes` from gossip only; each is null where its source has no row. `status` is null
/// without gossip. A probed node that neither source lists still appears: joining when it
/// answers (it has not reached the others' gossip yet), else down. Without any gossip (the
/// virtual table could not be read), a node listed by the ring tables is up unless its probe
/// failed: membership is all they say.
nlohmann::json build_nodes(const cql::Rows& gossip, const cql::Rows& ring,
                           const std::vector<NodeProbe>& probes);

/// The number of elements of a CQL set as the bridge renders it ("{'-92','17'}"), or -1 when
/// the text is not a set. Tokens never contain commas (numbers, or hex for the byte-ordered
/// partitioner), so counting separators is exact. Exposed for tests.
int count_set_elements(const std::string& rendered);

/// Nodes that should have a row in the ring tables but have none in `ring`: those that
/// answered the caller's probe or that gossip says are NORMAL. The driver sends each query to
/// a node of its choosing, so system.local and system.peers_v2 may come from two nodes, and
/// the node that answered peers_v2 (never listed in its own peers) is then missing; asking
/// system.local again lets another node answer. Exposed for tests.
std::vector<std::string> ring_rows_missing(const cql::Rows& gossip, const cql::Rows& ring,
                                           const std::vector<NodeProbe>& probes);

/// Asks the cluster (whichever node the driver picks) for gossip and the ring tables and
/// shapes them with build_nodes. Gossip that cannot be read (an older Cassandra, no access to
/// system_views) leaves the ring tables alone; a failed system.local read is the error.
base::Result<nlohmann::json> cassandra_nodes(cql::Session& session,
                                             const std::vector<NodeProbe>& probes);

}  // namespace streamflow::control

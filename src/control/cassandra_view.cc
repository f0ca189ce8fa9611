#include "control/cassandra_view.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>

namespace streamflow::control {

namespace {

/// The index of `name` among the answer's columns, or -1: rows are read by name so that a
/// reordered SELECT cannot shift every field by one.
int column_index(const cql::Rows& rows, std::string_view name) {
  for (std::size_t i = 0; i < rows.columns.size(); ++i)
    if (rows.columns[i] == name) return static_cast<int>(i);
  return -1;
}

cql::Value cell(const std::vector<cql::Value>& row, int index) {
  if (index < 0 || static_cast<std::size_t>(index) >= row.size()) return std::nullopt;
  return row[index];
}

/// "127.0.0.2:9042" -> "127.0.0.2", "[::1]:9042" -> "::1"; a bare IPv6 address (several
/// colons, no brackets) is left whole.
std::string host_of(const std::string& address) {
  if (!address.empty() && address.front() == '[') {
    const auto close = address.find(']');
    return close == std::string::npos ? address : address.substr(1, close - 1);
  }
  const auto colon = address.find(':');
  if (colon != std::string::npos && address.find(':', colon + 1) == std::string::npos)
    return address.substr(0, colon);
  return address;
}

/// The STATUS word: gossip values are "NORMAL,<token>", "shutdown,true", "LEFT,<token>,<ms>".
std::string status_word(const std::string& status) { return status.substr(0, status.find(',')); }

/// Gossip's LOAD is Java's String.valueOf(double) of the bytes on disk: "123456.0", and
/// "1.2345678E8" from 10^7 on, both of which strtod reads.
std::optional<std::int64_t> parse_load(const std::string& text) {
  const char* begin = text.c_str();
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  if (end == begin || *end != '\0' || !std::isfinite(v) || v < 0) return std::nullopt;
  return std::llround(v);
}

/// Orders IPv4 before IPv6 and each numerically (127.0.0.10 after 127.0.0.2); anything that
/// is not an address last, by text.
std::tuple<int, std::array<unsigned char, 16>, std::string> address_key(const std::string& a) {
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(AF_INET, a.c_str(), bytes.data()) == 1) return {0, bytes, a};
  if (inet_pton(AF_INET6, a.c_str(), bytes.data()) == 1) return {1, bytes, a};
  return {2, bytes, a};
}

nlohmann::json text_or_null(const cql::Value& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

/// What the two sources say about one address, gossip's fields kept apart from the ring's so
/// that gossip can win field by field.
struct NodeFacts {
  bool in_gossip = false;
  bool in_ring = false;
  cql::Value status, load;
  cql::Value g_host_id, g_dc, g_rack, g_release;
  cql::Value r_host_id, r_dc, r_rack, r_release, r_tokens;
};

}  // namespace

std::string node_state(const std::string& status_word, bool probed, bool reachable) {
  if (probed && !reachable) return "down";
  if (status_word == "shutdown" || status_word == "LEFT" || status_word == "removed" ||
      status_word == "hibernate")
    return "down";
  // No STATUS yet: the node gossips but has not announced itself a member of the ring.
  if (status_word.empty() || status_word == "BOOT" || status_word == "BOOT_REPLACE")
    return "joining";
  if (status_word == "LEAVING" || status_word == "LEAVE" || status_word == "removing")
    return "leaving";
  return "up";
}

int count_set_elements(const std::string& rendered) {
  const auto first = rendered.find_first_not_of(" \t\n");
  const auto last = rendered.find_last_not_of(" \t\n");
  if (first == std::string::npos || rendered[first] != '{' || rendered[last] != '}' ||
      first == last)
    return -1;
  const std::string inner = rendered.substr(first + 1, last - first - 1);
  if (inner.find_first_not_of(" \t\n") == std::string::npos) return 0;
  return static_cast<int>(std::count(inner.begin(), inner.end(), ',')) + 1;
}

nlohmann::json build_nodes(const cql::Rows& gossip, const cql::Rows& ring,
                           const std::vector<NodeProbe>& probes) {
  std::map<std::string, NodeFacts> nodes;

  const int g_address = column_index(gossip, "address");
  const int g_status_port = column_index(gossip, "status_with_port");
  const int g_status = column_index(gossip, "status");
  const int g_load = column_index(gossip, "load");
  const int g_dc = column_index(gossip, "dc");
  const int g_rack = column_index(gossip, "rack");
  const int g_host_id = column_index(gossip, "host_id");
  const int g_release = column_index(gossip, "release_version");
  for (const auto& row : gossip.rows) {
    const auto address = cell(row, g_address);
    if (!address) continue;
    auto& n = nodes[host_of(*address)];
    n.in_gossip = true;
    // STATUS_WITH_PORT is the current one; STATUS is kept for pre-4.0 peers, same words.
    n.status = cell(row, g_status_port);
    if (!n.status) n.status = cell(row, g_status);
    n.load = cell(row, g_load);
    n.g_dc = cell(row, g_dc);
    n.g_rack = cell(row, g_rack);
    n.g_host_id = cell(row, g_host_id);
    n.g_release = cell(row, g_release);
  }

  const int r_address = column_index(ring, "address");
  const int r_host_id = column_index(ring, "host_id");
  const int r_dc = column_index(ring, "data_center");
  const int r_rack = column_index(ring, "rack");
  const int r_release = column_index(ring, "release_version");
  const int r_tokens = column_index(ring, "tokens");
  for (const auto& row : ring.rows) {
    const auto address = cell(row, r_address);
    if (!address) continue;
    auto& n = nodes[host_of(*address)];
    if (n.in_ring) continue;  // the same node from two answers: the first is as good
    n.in_ring = true;
    n.r_host_id = cell(row, r_host_id);
    n.r_dc = cell(row, r_dc);
    n.r_rack = cell(row, r_rack);
    n.r_release = cell(row, r_release);
    n.r_tokens = cell(row, r_tokens);
  }

  std::map<std::string, bool> reachable;  // by host; a node probed twice is up if either answered
  for (const auto& p : probes) {
    auto [it, inserted] = reachable.emplace(host_of(p.address), p.reachable);
    if (!inserted) it->second = it->second || p.reachable;
    nodes.try_emplace(it->first);
  }

  const bool have_gossip = !gossip.rows.empty();
  std::vector<std::string> order;
  for (const auto& [address, _] : nodes) order.push_back(address);
  std::sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) {
    return address_key(a) < address_key(b);
  });

  nlohmann::json out = nlohmann::json::array();
  for (const auto& address : order) {
    const auto& n = nodes[address];
    const auto probe = reachable.find(address);
    const bool probed = probe != reachable.end();
    const bool answers = probed && probe->second;

    std::string state;
    if (n.in_gossip) {
      state = node_state(n.status ? status_word(*n.status) : "", probed, answers);
    } else if (probed && !answers) {
      state = "down";
    } else if (have_gossip) {
      // Gossip knows every endpoint the answering node has heard of; one missing from it that
      // answers CQL has not been heard of yet, one the ring tables alone list is not alive.
      state = answers ? "joining" : "down";
    } else {
      state = "up";
    }

    std::optional<std::int64_t> load;
    if (n.load) load = parse_load(*n.load);
    const int tokens = n.r_tokens ? count_set_elements(*n.r_tokens) : -1;

    out.push_back({
        {"address", address},
        {"host_id", text_or_null(n.g_host_id ? n.g_host_id : n.r_host_id)},
        {"datacenter", text_or_null(n.g_dc ? n.g_dc : n.r_dc)},
        {"rack", text_or_null(n.g_rack ? n.g_rack : n.r_rack)},
        {"status", n.status ? nlohmann::json(status_word(*n.status)) : nlohmann::json(nullptr)},
        {"state", state},
        {"load_bytes", load ? nlohmann::json(*load) : nlohmann::json(nullptr)},
        {"release_version", text_or_null(n.g_release ? n.g_release : n.r_release)},
        {"tokens", tokens >= 0 ? nlohmann::json(tokens) : nlohmann::json(nullptr)},
    });
  }
  return {{"nodes", std::move(out)}};
}

std::vector<std::string> ring_rows_missing(const cql::Rows& gossip, const cql::Rows& ring,
                                           const std::vector<NodeProbe>& probes) {
  std::map<std::string, bool> in_ring;
  const int r_address = column_index(ring, "address");
  for (const auto& row : ring.rows)
    if (auto a = cell(row, r_address)) in_ring[host_of(*a)] = true;

  std::vector<std::string> missing;
  auto want = [&](const std::string& host) {
    if (!in_ring.count(host) && std::find(missing.begin(), missing.end(), host) == missing.end())
      missing.push_back(host);
  };
  for (const auto& p : probes)
    if (p.reachable) want(host_of(p.address));
  const int g_address = column_index(gossip, "address");
  const int g_status_port = column_index(gossip, "status_with_port");
  const int g_status = column_index(gossip, "status");
  for (const auto& row : gossip.rows) {
    const auto address = cell(row, g_address);
    auto status = cell(row, g_status_port);
    if (!status) status = cell(row, g_status);
    if (address && status && status_word(*status) == "NORMAL") want(host_of(*address));
  }
  return missing;
}

}  // namespace streamflow::control

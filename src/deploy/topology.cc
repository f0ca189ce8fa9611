#include "deploy/topology.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <yaml-cpp/yaml.h>

#include <cstring>
#include <map>
#include <set>

#include "base/fs.h"

namespace streamflow::deploy {

namespace {

using base::Errc;
using base::make_error;
using base::Result;

/// Each engine's section and the keys it takes (`nodes`, or for Spark `masters`/`workers`).
const std::map<std::string, std::set<std::string>>& known_keys() {
  static const std::map<std::string, std::set<std::string>> keys = {
      {"zookeeper", {"nodes", "heap_mb"}},
      {"kafka", {"nodes", "replication_factor", "min_insync_replicas", "heap_mb"}},
      {"cassandra", {"nodes", "replication_factor", "seeds", "heap_mb"}},
      {"connect", {"nodes", "heap_mb"}},
      {"spark",
       {"masters", "workers", "worker_cores", "worker_memory_mb", "executor_memory_mb",
        "daemon_heap_mb"}},
  };
  return keys;
}

class Parser {
 public:
  explicit Parser(std::filesystem::path file) : file_(std::move(file)) {}

  Result<void> fail(const std::string& what) const {
    return make_error(Errc::invalid_argument, "topology " + file_.string() + ": " + what);
  }

  Result<std::vector<Node>> nodes(const YAML::Node& section, const std::string& engine,
                                  const std::string& key) const {
    std::vector<Node> out;
    const auto list = section[key];
    if (!list) return out;
    if (!list.IsSequence()) {
      return fail(engine + "." + key + " must be a list of addresses, e.g. [127.0.0.2, 127.0.0.3]")
          .error();
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (!list[i].IsScalar() || list[i].as<std::string>().empty()) {
        return fail(engine + "." + key + "[" + std::to_string(i) + "] must be an address").error();
      }
      auto host = list[i].as<std::string>();
      if (!seen.insert(host).second) {
        return fail(engine + "." + key + " lists " + host +
                    " twice: nodes of one engine need an address each (their ports repeat)")
            .error();
      }
      out.push_back({static_cast<int>(i) + 1, std::move(host)});
    }
    return out;
  }

  Result<int> number(const YAML::Node& section, const std::string& engine, const std::string& key,
                     int fallback, int min, int max) const {
    const auto value = section[key];
    if (!value) return fallback;
    int n = 0;
    try {
      n = value.as<int>();
    } catch (const YAML::Exception&) {
      return fail(engine + "." + key + " must be a whole number").error();
    }
    if (n < min || n > max) {
      return fail(engine + "." + key + " is " + std::to_string(n) + "; it must be within " +
                  std::to_string(min) + ".." + std::to_string(max))
          .error();
    }
    return n;
  }

 private:
  std::filesystem::path file_;
};

}  // namespace

Result<Topology> parse_topology(std::string_view yaml, const std::filesystem::path& file) {
  Parser p(file);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return p.fail(std::string("not valid YAML: ") + e.what()).error();
  }
  if (!root.IsMap()) return p.fail("must be a mapping of engines to their nodes").error();

  Topology t;
  t.file = file;
  t.name = file.stem().string();
  for (const auto& entry : root) {
    const auto key = entry.first.as<std::string>();
    if (key == "name" || key == "single") continue;
    const auto known = known_keys().find(key);
    if (known == known_keys().end()) {
      return p
          .fail("unknown key '" + key +
                "' (known: name, single, zookeeper, kafka, cassandra, connect, spark)")
          .error();
    }
    if (!entry.second.IsMap()) return p.fail(key + " must be a mapping").error();
    for (const auto& sub : entry.second) {
      const auto name = sub.first.as<std::string>();
      if (!known->second.count(name)) {
        std::string list;
        for (const auto& k : known->second) list += (list.empty() ? "" : ", ") + k;
        return p.fail("unknown key '" + key + "." + name + "' (known: " + list + ")").error();
      }
    }
  }
  if (root["name"]) t.name = root["name"].as<std::string>();
  if (root["single"]) t.single_host = root["single"].as<std::string>();

  const auto section = [&](const char* engine) {
    return root[engine] ? root[engine] : YAML::Node();
  };
  struct Listed {
    const char* engine;
    const char* key;
    std::vector<Node>* into;
  };
  t.kafka.clear();
  t.cassandra.clear();
  t.connect.clear();
  for (const auto& [engine, key, into] :
       {Listed{"zookeeper", "nodes", &t.zookeeper}, Listed{"kafka", "nodes", &t.kafka},
        Listed{"cassandra", "nodes", &t.cassandra}, Listed{"connect", "nodes", &t.connect},
        Listed{"spark", "masters", &t.spark_masters},
        Listed{"spark", "workers", &t.spark_workers}}) {
    auto listed = p.nodes(section(engine), engine, key);
    if (!listed) return listed.error();
    *into = std::move(*listed);
  }
  // An engine the file leaves out runs one node on the single host.
  for (auto* engine : {&t.kafka, &t.cassandra, &t.connect}) {
    if (engine->empty()) engine->push_back({1, t.single_host});
  }

  const auto kafka = section("kafka");
  const auto brokers = static_cast<int>(t.kafka.size());
  auto rf = p.number(kafka, "kafka", "replication_factor", std::min(brokers, 3), 1, brokers);
  if (!rf) return rf.error();
  t.kafka_replication_factor = *rf;
  auto isr = p.number(kafka, "kafka", "min_insync_replicas", std::max(1, *rf - 1), 1, *rf);
  if (!isr) return isr.error();
  t.kafka_min_insync_replicas = *isr;

  const auto cassandra = section("cassandra");
  const auto ring = static_cast<int>(t.cassandra.size());
  auto crf = p.number(cassandra, "cassandra", "replication_factor", std::min(ring, 3), 1, ring);
  if (!crf) return crf.error();
  t.cassandra_replication_factor = *crf;
  auto seeds = p.number(cassandra, "cassandra", "seeds", std::min(ring, 2), 1, ring);
  if (!seeds) return seeds.error();
  t.cassandra_seeds = *seeds;

  const auto spark = section("spark");
  auto cores = p.number(spark, "spark", "worker_cores", 1, 1, 256);
  if (!cores) return cores.error();
  t.spark_worker_cores = *cores;
  auto worker_mb = p.number(spark, "spark", "worker_memory_mb", 1024, 256, 1 << 20);
  if (!worker_mb) return worker_mb.error();
  t.spark_worker_memory_mb = *worker_mb;
  auto executor_mb =
      p.number(spark, "spark", "executor_memory_mb", std::min(768, *worker_mb), 256, *worker_mb);
  if (!executor_mb) return executor_mb.error();
  t.spark_executor_memory_mb = *executor_mb;

  struct Heap {
    const char* engine;
    const char* key;
    int* into;
    int fallback;
  };
  for (const auto& [engine, key, into, fallback] :
       {Heap{"zookeeper", "heap_mb", &t.zookeeper_heap_mb, 128},
        Heap{"kafka", "heap_mb", &t.kafka_heap_mb, 0},
        Heap{"cassandra", "heap_mb", &t.cassandra_heap_mb, 0},
        Heap{"connect", "heap_mb", &t.connect_heap_mb, 0},
        Heap{"spark", "daemon_heap_mb", &t.spark_daemon_heap_mb, 256}}) {
    auto heap = p.number(section(engine), engine, key, fallback, 0, 1 << 20);
    if (!heap) return heap.error();
    *into = *heap;
  }

  if (!t.spark_masters.empty() && t.spark_workers.empty()) {
    return p.fail("spark.masters needs spark.workers: the job's executors run on the workers")
        .error();
  }
  if (t.spark_masters.empty() && !t.spark_workers.empty()) {
    return p.fail("spark.workers needs spark.masters to register with").error();
  }
  if (t.spark_masters.size() > 1 && t.zookeeper.empty()) {
    return p
        .fail(
            "two or more spark.masters need zookeeper.nodes: the standby takes over through "
            "ZooKeeper")
        .error();
  }
  if (!t.zookeeper.empty() && t.zookeeper.size() % 2 == 0) {
    return p
        .fail("zookeeper.nodes lists " + std::to_string(t.zookeeper.size()) +
              " nodes: an ensemble needs an odd number (a majority must survive a loss)")
        .error();
  }
  return t;
}

Result<Topology> load_topology(const std::filesystem::path& file) {
  auto text = base::read_file(file);
  if (!text) {
    return make_error(Errc::not_found, "no topology file at " + file.string() +
                                           " (set `topology`, STREAMFLOW_TOPOLOGY or "
                                           "--topology to an existing file)");
  }
  return parse_topology(*text, file);
}

std::string host_ports(const std::vector<Node>& nodes, int port) {
  std::string out;
  for (const auto& n : nodes) out += (out.empty() ? "" : ",") + n.host + ":" + std::to_string(port);
  return out;
}

std::string engine_of(const std::string& service) {
  const auto dash = service.rfind('-');
  if (dash == std::string::npos || dash + 1 == service.size() ||
      service.find_first_not_of("0123456789", dash + 1) != std::string::npos) {
    return service;
  }
  return service.substr(0, dash);
}

bool is_own_address(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    if ((ntohl(v4.s_addr) >> 24) == 127) return true;
  } else {
    // A host name: its first IPv4 address.
    addrinfo hints{};
    hints.ai_family = AF_INET;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || !found) return false;
    v4 = reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr;
    freeaddrinfo(found);
    if ((ntohl(v4.s_addr) >> 24) == 127) return true;
  }
  ifaddrs* interfaces = nullptr;
  if (getifaddrs(&interfaces) != 0) return false;
  bool own = false;
  for (auto* i = interfaces; i && !own; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    own = reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr == v4.s_addr;
  }
  freeifaddrs(interfaces);
  return own;
}

}  // namespace streamflow::deploy

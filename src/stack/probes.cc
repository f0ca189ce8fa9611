#include "stack/probes.h"

#include <fmt/format.h>
#include <httplib.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "base/net.h"
#include "io/connect.h"
#include "io/pg.h"

namespace streamflow::stack {

std::string postgres_admin_conninfo(const Layout& l, const std::string& dbname) {
  return fmt::format("host={} port={} user=postgres dbname={} connect_timeout=3",
                     l.postgres_socket_dir().string(), l.ports.postgres, dbname);
}

Probe probe_postgres(const Layout& l) {
  const auto conninfo =
      fmt::format("host=127.0.0.1 port={} dbname=postgres connect_timeout=2", l.ports.postgres);
  switch (PQping(conninfo.c_str())) {
    case PQPING_OK:
      return {true, "accepting connections"};
    case PQPING_REJECT:
      return {false, "server is starting up or shutting down"};
    case PQPING_NO_RESPONSE:
      return {false, fmt::format("no answer on 127.0.0.1:{}", l.ports.postgres)};
    case PQPING_NO_ATTEMPT:
      return {false, "bad connection parameters"};
  }
  return {false, "unknown"};
}

std::string postgres_server_version(const Layout& l) {
  auto conn = io::Connection::open(postgres_admin_conninfo(l));
  if (!conn) return "";
  auto rows = conn->exec("SHOW server_version");
  if (!rows || rows->size() != 1) return "";
  std::string v = rows->text(0, 0);
  return v.substr(0, v.find(' '));
}

Probe probe_kafka(const Layout& l, const deploy::Node& node) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const auto bootstrap = fmt::format("{}:{}", node.host, l.ports.kafka);
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err)) !=
          RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return {false, err};
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) return {false, err};
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t rc = rd_kafka_metadata(rk, 0, nullptr, &md, 3000);
  Probe probe;
  bool registered = false;
  if (rc == RD_KAFKA_RESP_ERR_NO_ERROR && md != nullptr) {
    for (int i = 0; i < md->broker_cnt; ++i)
      registered = registered || md->brokers[i].id == node.id;
  }
  if (registered) {
    probe = {true, fmt::format("{} broker(s), {} topic(s)", md->broker_cnt, md->topic_cnt)};
  } else if (rc == RD_KAFKA_RESP_ERR_NO_ERROR && md != nullptr) {
    probe = {false, fmt::format("answers, but broker {} is not registered yet ({} broker(s))",
                                node.id, md->broker_cnt)};
  } else {
    probe = {false,
             fmt::format("metadata request to {} failed: {}", bootstrap, rd_kafka_err2str(rc))};
  }
  if (md != nullptr) rd_kafka_metadata_destroy(md);
  rd_kafka_destroy(rk);
  return probe;
}

Probe probe_connect(const Layout& l, const deploy::Node& node) {
  io::ConnectClient client(node.host, l.ports.connect);
  auto connectors = client.get("/connectors");
  if (!connectors)
    return {false, fmt::format("no answer on http://{}:{}", node.host, l.ports.connect)};
  if (connectors->status != 200) {
    return {false, fmt::format("GET /connectors answered {} (worker still joining its group?)",
                               connectors->status)};
  }
  auto plugins = client.get("/connector-plugins");
  if (!plugins || plugins->status != 200) return {false, "GET /connector-plugins failed"};
  if (plugins->body.find("io.debezium.connector.postgresql.PostgresConnector") ==
      std::string::npos) {
    return {false, "the Debezium PostgreSQL plugin is not loaded from " +
                       l.connect_plugins.string() + " (run `make setup`)"};
  }
  return {true, "REST up, Debezium PostgreSQL plugin loaded"};
}

Probe probe_mock_api(const Layout& l) {
  httplib::Client client("127.0.0.1", l.ports.mock_api);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(2, 0);
  auto res = client.Get("/health");
  if (res && res->status == 200)
    return {true, fmt::format("http://127.0.0.1:{}/api/", l.ports.mock_api)};
  return {false, fmt::format("no answer on http://127.0.0.1:{}/health", l.ports.mock_api)};
}

Probe probe_serve(const Layout& l) {
  httplib::Client client("127.0.0.1", l.ports.serve);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(2, 0);
  auto res = client.Get("/healthz");
  if (res && res->status == 200) return {true, l.serve_url()};
  return {false, fmt::format("no answer on http://127.0.0.1:{}/healthz", l.ports.serve)};
}

Probe probe_cassandra(const Layout& l, const deploy::Node& node) {
  if (base::tcp_port_open(node.host, l.ports.cassandra, std::chrono::milliseconds(1000))) {
    return {true, "CQL port open"};
  }
  return {false, fmt::format("CQL port {}:{} not open yet", node.host, l.ports.cassandra)};
}

Probe probe_zookeeper(const Layout& l, const deploy::Node& node) {
  const auto reply =
      base::tcp_exchange(node.host, l.ports.zookeeper, "srvr", std::chrono::milliseconds(2000));
  const auto where = fmt::format("{}:{}", node.host, l.ports.zookeeper);
  if (!reply) return {false, "no answer on " + where};
  const auto mode = reply->find("Mode: ");
  if (mode == std::string::npos) {
    // "This ZooKeeper instance is not currently serving requests": no quorum yet.
    return {false, "not serving yet (no quorum): " + reply->substr(0, 80)};
  }
  const auto end = reply->find('\n', mode);
  return {true, reply->substr(mode + 6, end == std::string::npos ? end : end - mode - 6)};
}

namespace {

std::optional<nlohmann::json> get_json(const std::string& host, int port, const std::string& path) {
  httplib::Client client(host, port);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(3, 0);
  auto res = client.Get(path);
  if (!res || res->status != 200) return std::nullopt;
  auto doc = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  return doc;
}

}  // namespace

Probe probe_spark_master(const Layout& l, const deploy::Node& node) {
  auto doc = get_json(node.host, l.ports.spark_master_ui, "/json/");
  if (!doc) {
    return {false,
            fmt::format("no answer on http://{}:{}/json/", node.host, l.ports.spark_master_ui)};
  }
  const auto status = doc->value("status", std::string("unknown"));
  if (status == "ALIVE") {
    int alive = 0;
    if (doc->contains("workers") && (*doc)["workers"].is_array()) {
      for (const auto& w : (*doc)["workers"]) alive += w.value("state", "") == "ALIVE";
    }
    return {true, fmt::format("ALIVE (leader), {} worker(s) alive", alive)};
  }
  if (status == "STANDBY") return {true, "STANDBY"};
  return {false, "master is " + status};
}

Probe probe_spark_worker(const Layout& l, const deploy::Node& node) {
  auto doc = get_json(node.host, l.ports.spark_worker_ui, "/json/");
  if (!doc) {
    return {false,
            fmt::format("no answer on http://{}:{}/json/", node.host, l.ports.spark_worker_ui)};
  }
  const auto master = doc->value("masterurl", std::string());
  // The worker names its master once it has registered with it.
  if (master.empty()) return {false, "not registered with a master yet"};
  return {true, fmt::format("registered with {}, {} core(s) in use of {}", master,
                            doc->value("coresused", 0), doc->value("cores", 0))};
}

namespace {

std::optional<nlohmann::json> read_spark_progress(const Layout& l) {
  std::ifstream in(l.spark_progress_file());
  if (!in) return std::nullopt;
  auto doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  return doc;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Probe probe_spark(const Layout& l) {
  auto doc = read_spark_progress(l);
  if (!doc) return {false, "no progress from the streaming job yet (starting: ~10 s)"};
  const double age = unix_now() - doc->value("updated_at", 0.0);
  if (age > 20) return {false, fmt::format("no progress for {:.0f} s", age)};
  const auto& queries = (*doc)["queries"];
  if (!queries.is_object() || queries.empty()) return {false, "no streaming query running"};
  for (const auto& [name, q] : queries.items()) {
    if (!q.value("active", false)) return {false, "query " + name + " stopped"};
  }
  return {true, fmt::format("{} queries streaming", queries.size())};
}

std::vector<std::pair<std::string, std::string>> spark_facts(const Layout& l) {
  std::vector<std::pair<std::string, std::string>> out;
  auto doc = read_spark_progress(l);
  if (!doc || !(*doc)["queries"].is_object()) return out;
  for (const auto& [name, q] : (*doc)["queries"].items()) {
    const auto& t = q["totals"];
    auto num = [](const nlohmann::json& j, const char* key) {
      return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
    };
    if (name == "users") {
      out.emplace_back(
          "query users",
          fmt::format("batch {} · {:.0f} rows/s · upserted {:.0f} · deleted {:.0f} · dead "
                      "letters {:.0f}",
                      num(t, "last_batch_id"), num(q, "processed_rows_per_s"), num(t, "upserted"),
                      num(t, "deleted"), num(t, "dead_lettered")));
    } else {
      out.emplace_back("query " + name,
                       fmt::format("batch {} · {:.0f} rows/s · watermark {}",
                                   num(t, "last_batch_id"), num(q, "processed_rows_per_s"),
                                   q.value("watermark", nlohmann::json("-")).is_string()
                                       ? q["watermark"].get<std::string>()
                                       : "-"));
    }
  }
  out.emplace_back("checkpoints", l.spark_checkpoints().string());
  return out;
}

namespace {

/// The version of `dist` (its normalised name, "pyspark", "apache_airflow") installed in the
/// venv whose bin/ holds `python`, or "".
std::string venv_package_version(const std::filesystem::path& python, std::string_view dist) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto lib = python.parent_path().parent_path() / "lib";
  const std::string prefix = std::string(dist) + "-";
  for (const auto& py : fs::directory_iterator(lib, ec)) {
    for (const auto& e : fs::directory_iterator(py.path() / "site-packages", ec)) {
      const auto n = e.path().filename().string();
      // pip writes pyspark-3.5.7.dist-info, or pyspark-3.5.7-py3.11.egg-info for a legacy
      // setup.py install.
      if (n.starts_with(prefix) && (n.ends_with(".dist-info") || n.ends_with(".egg-info"))) {
        auto v = n.substr(prefix.size());
        return v.substr(0, v.find_first_of("-.", v.find('.', v.find('.') + 1) + 1));
      }
    }
  }
  return "";
}

}  // namespace

std::string pyspark_version(const Layout& l) {
  return venv_package_version(l.spark.python, "pyspark");
}

std::filesystem::path spark_home(const Layout& l) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& py :
       fs::directory_iterator(l.spark.python.parent_path().parent_path() / "lib", ec)) {
    const auto home = py.path() / "site-packages" / "pyspark";
    if (fs::exists(home / "jars", ec)) return home;
  }
  return {};
}

std::string airflow_version(const Layout& l) {
  return venv_package_version(l.airflow.venv / "bin" / "python", "apache_airflow");
}

Probe probe_airflow(const Layout& l, const std::string& component) {
  httplib::Client client("127.0.0.1", l.ports.airflow);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(3, 0);
  auto res = client.Get("/api/v2/monitor/health");
  if (!res) return {false, "the api-server does not answer on " + l.airflow_url() + " yet"};
  if (res->status != 200) return {false, fmt::format("health endpoint answered {}", res->status)};
  auto doc = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return {false, "health endpoint answered non-JSON"};
  const auto status_of = [&](const std::string& key) -> std::string {
    if (!doc.contains(key) || !doc[key].is_object()) return "unknown";
    const auto& st = doc[key]["status"];
    return st.is_string() ? st.get<std::string>() : "unknown";
  };
  if (component.empty()) {
    const auto db = status_of("metadatabase");
    if (db != "healthy") return {false, "metadata database " + db};
    return {true, l.airflow_url() + "/"};
  }
  const auto st = status_of(component);
  if (st != "healthy") return {false, component + " " + st};
  return {true, component + " heartbeat fresh"};
}

}  // namespace streamflow::stack

#pragma once
/// How each service of services/ is made from its spec; services.cc says what each service is
/// and lists them in start order. Internal to
/// the stack module.

#include <memory>
#include <vector>

#include "stack/service.h"

namespace streamflow::stack::detail {

// The names every service file uses.
namespace fs = std::filesystem;
using base::Errc;
using base::make_error;
using base::Result;

std::unique_ptr<Service> make_postgres(const Layout& layout, ServiceSpec spec);
std::unique_ptr<Service> make_zookeeper(const Layout& layout, ServiceSpec spec);
std::unique_ptr<Service> make_spark_master(const Layout& layout, ServiceSpec spec);
std::unique_ptr<Service> make_spark_worker(const Layout& layout, ServiceSpec spec);
std::unique_ptr<Service> make_kafka(const Layout& layout, ServiceSpec spec);
std::unique_ptr<Service> make_cassandra(const Layout& layout, ServiceSpec spec);
std::unique_ptr<Service> make_registry(const Layout& layout, ServiceSpec spec);
std::unique_ptr<Service> make_connect(const Layout& layout, ServiceSpec spec);
std::unique_ptr<Service> make_mock_api(const Layout& layout, ServiceSpec spec);
std::unique_ptr<Service> make_spark(const Layout& layout, ServiceSpec spec);
std::unique_ptr<Service> make_serve(const Layout& layout, ServiceSpec spec);
/// Airflow's four components: api-server, scheduler, dag-processor, triggerer.
std::vector<std::unique_ptr<Service>> make_airflow(const Layout& layout);

}  // namespace streamflow::stack::detail

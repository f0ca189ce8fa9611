#pragma once
/// The services of the local stack, in start order: the one list `up`, `down`, `status`, `logs`
/// and serve's health (through probe_services) go by. Each service is a file of services/.

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "stack/service.h"

namespace streamflow::stack {

/// All enabled services, in start order.
std::vector<std::unique_ptr<Service>> make_services(const Layout& layout);

/// One service's health as its probe sees it now (no supervisord involved).
struct ServiceHealth {
  std::string name;
  bool healthy = false;
  std::string detail;
  std::vector<std::pair<std::string, std::string>> facts;  ///< when asked for and healthy
};

/// Probes every enabled service; the healthy ones named in `with_facts` also give their facts
/// (some facts cost a connection: ask only for what is shown).
std::vector<ServiceHealth> probe_services(const Layout& layout,
                                          const std::set<std::string>& with_facts);

}  // namespace streamflow::stack

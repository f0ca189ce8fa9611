#pragma once
/// The wall clock as `serve` reports it: milliseconds since the Unix epoch.

#include <chrono>
#include <cstdint>

namespace streamflow::serve {

inline std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace streamflow::serve

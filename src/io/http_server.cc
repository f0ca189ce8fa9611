#include "io/http_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>

#include "base/net.h"

namespace streamflow::io {

void tune_http_server(httplib::Server& server, int threads) {
  server.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<std::size_t>(threads));
  };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(10000);
}

base::Result<void> listen_in_background(httplib::Server& server, const std::string& host, int port,
                                        std::thread& thread) {
  if (auto holder = base::find_port_holder(port)) {
    return base::make_error(
        base::Errc::conflict,
        fmt::format("port {} is already in use by {}", port, holder->describe()),
        fmt::format("port={}", port));
  }
  if (!server.bind_to_port(host.c_str(), port)) {
    return base::make_error(base::Errc::conflict,
                            fmt::format("cannot listen on {}:{}", host, port));
  }
  thread = std::thread([&server] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return {};
}

}  // namespace streamflow::io

#pragma once
/// What every HTTP server of ours (the mock API, `streamflow serve`) does the same way on
/// cpp-httplib: the settings that make it fast, and a start that refuses a taken port.

#include <string>
#include <thread>

#include "base/result.h"

namespace httplib {
class Server;
}

namespace streamflow::io {

/// A pool of `threads` workers (each open connection holds one), TCP_NODELAY (else every
/// keep-alive request after the first waits ~40 ms) and keep-alive for up to 10,000 requests
/// (the default ends it after 5).
void tune_http_server(httplib::Server& server, int threads);

/// Checks that nothing listens on `port` (cpp-httplib sets SO_REUSEPORT, so a bind alone would
/// share a taken port silently), binds, and serves on `thread` until server.stop(). Returns
/// once the server accepts connections; conflict when the port is taken.
base::Result<void> listen_in_background(httplib::Server& server, const std::string& host, int port,
                                        std::thread& thread);

}  // namespace streamflow::io

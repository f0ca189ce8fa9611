#pragma once
/// The control room's routes (/api/v1/control/...): reads open to whoever may read the API,
/// actions only with the action token, each recorded in the audit log (refusals too).

#include <string>

#include "control/room.h"
#include "serve/api.h"
#include "serve/params.h"

namespace httplib {
class Server;
}

namespace streamflow::serve {

/// Whether `given` is `token` (compared in constant time; an empty token never matches): the
/// action token here, and serve.token for every request off loopback.
bool is_action_token(const std::string& given, const std::string& token);

/// GET /api/v1/control/... for `path` with `q`: the answer, or 404 for a path it does not know.
Response control_read(control::ControlRoom& room, const std::string& path, const Query& q);

void add_control_routes(httplib::Server& http, control::ControlRoom& room,
                        const std::string& action_token);

}  // namespace streamflow::serve

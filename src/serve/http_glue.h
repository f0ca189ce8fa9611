#pragma once
/// Between cpp-httplib and the routes: a request's query parameters as a `Query`, a route's
/// `Response` written into httplib's.

#include <httplib.h>

#include "serve/api.h"
#include "serve/params.h"

namespace streamflow::serve {

/// The request's query parameters; a parameter given twice keeps its first value.
inline Query query_of(const httplib::Request& req) {
  Query q;
  for (const auto& [k, v] : req.params) q.emplace(k, v);
  return q;
}

inline void send(httplib::Response& res, const Response& r) {
  res.status = r.status;
  res.set_content(r.body, r.content_type);
}

}  // namespace streamflow::serve

#include "io/http.h"

#include <fmt/format.h>
#include <httplib.h>

#include <regex>

namespace streamflow::io {

using base::Errc;

std::string Url::without_query() const {
  const bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  return scheme + "://" + host + (default_port ? "" : ":" + std::to_string(port)) + path;
}

base::Result<Url> Url::parse(const std::string& text) {
  static const std::regex kUrl(
      R"(^(https?)://([^/:?#]+)(?::([0-9]{1,5}))?(/[^?#]*)?(?:\?([^#]*))?$)");
  std::smatch m;
  if (!std::regex_match(text, m, kUrl)) {
    return base::make_error(Errc::invalid_argument, "not an http(s) URL: '" + text + "'");
  }
  Url u;
  u.scheme = m[1];
  u.host = m[2];
  u.port = m[3].matched ? std::stoi(m[3]) : (u.scheme == "https" ? 443 : 80);
  u.path = m[4].matched && !m[4].str().empty() ? m[4].str() : "/";
  u.query = m[5].matched ? m[5].str() : "";
  return u;
}

HttpClient::HttpClient(const Url& base, int timeout_s) : base_(base) {
  const auto origin = fmt::format("{}://{}:{}", base.scheme, base.host, base.port);
  client_ = std::make_unique<httplib::Client>(origin);
  client_->set_keep_alive(true);
  client_->set_tcp_nodelay(true);
  client_->set_connection_timeout(timeout_s, 0);
  client_->set_read_timeout(timeout_s, 0);
  client_->set_follow_location(true);
  if (base.scheme == "https") client_->set_ca_cert_path("/etc/ssl/certs/ca-certificates.crt");
}

HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;

base::Result<HttpResponse> HttpClient::get(const std::string& query) {
  std::string target = base_.path;
  std::string q = base_.query;
  if (!query.empty()) q += (q.empty() ? "" : "&") + query;
  if (!q.empty()) target += "?" + q;
  auto res = client_->Get(target);
  if (!res) {
    return base::make_error(Errc::unavailable, "GET " + base_.without_query() +
                                                   " failed: " + httplib::to_string(res.error()));
  }
  HttpResponse out;
  out.status = res->status;
  out.body = std::move(res->body);
  if (res->has_header("Retry-After")) {
    try {
      out.retry_after_s = std::stoi(res->get_header_value("Retry-After"));
    } catch (...) {
      // An HTTP-date Retry-After: fall back to our own backoff.
    }
  }
  return out;
}

}  // namespace streamflow::io

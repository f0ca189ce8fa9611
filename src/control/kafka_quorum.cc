#include "control/kafka_quorum.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>

namespace streamflow::control {

using base::Errc;
using base::make_error;

namespace {

constexpr std::int16_t kDescribeQuorum = 55;
constexpr std::string_view kMetadataTopic = "__cluster_metadata";

void put_i16(std::string& out, std::int16_t v) {
  out += static_cast<char>((v >> 8) & 0xff);
  out += static_cast<char>(v & 0xff);
}
void put_i32(std::string& out, std::int32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}
void put_uvarint(std::string& out, std::uint32_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

/// Reads the flexible-version primitives; any overrun sets `bad` and yields zeros.
struct Reader {
  std::string_view in;
  std::size_t at = 0;
  bool bad = false;
  bool take(std::size_t n) {
    if (bad || in.size() - at < n) {
      bad = true;
      return false;
    }
    return true;
  }
  std::int64_t big_endian(std::size_t n) {
    if (!take(n)) return 0;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
    at += n;
    // Sign-extend from n bytes.
    const int unused = static_cast<int>(64 - 8 * n);
    return static_cast<std::int64_t>(v << unused) >> unused;
  }
  std::int16_t i16() { return static_cast<std::int16_t>(big_endian(2)); }
  std::int32_t i32() { return static_cast<std::int32_t>(big_endian(4)); }
  std::int64_t i64() { return big_endian(8); }
  std::uint32_t uvarint() {
    std::uint32_t v = 0;
    for (int shift = 0; shift <= 28; shift += 7) {
      if (!take(1)) return 0;
      const auto b = static_cast<unsigned char>(in[at++]);
      v |= static_cast<std::uint32_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    bad = true;
    return 0;
  }
  /// A compact array's length (N+1 on the wire; 0 is null, taken as empty).
  std::uint32_t array_length() {
    const auto n = uvarint();
    return n == 0 ? 0 : n - 1;
  }
  std::string compact_string() {
    const auto n = uvarint();
    if (n == 0) return {};
    if (!take(n - 1)) return {};
    std::string s(in.substr(at, n - 1));
    at += n - 1;
    return s;
  }
  void tagged_fields() {
    const auto count = uvarint();
    for (std::uint32_t i = 0; i < count && !bad; ++i) {
      uvarint();  // the tag
      const auto size = uvarint();
      if (take(size)) at += size;
    }
  }
};

}  // namespace

std::string encode_describe_quorum(std::int32_t correlation_id, std::string_view client_id) {
  std::string body;
  put_i16(body, kDescribeQuorum);
  put_i16(body, 0);  // version 0 (flexible: request header v2)
  put_i32(body, correlation_id);
  put_i16(body, static_cast<std::int16_t>(client_id.size()));  // header v2: a nullable string
  body += client_id;
  put_uvarint(body, 0);  // header tagged fields
  put_uvarint(body, 2);  // topics: one
  put_uvarint(body, static_cast<std::uint32_t>(kMetadataTopic.size() + 1));
  body += kMetadataTopic;
  put_uvarint(body, 2);  // partitions: one
  put_i32(body, 0);
  put_uvarint(body, 0);  // partition tagged fields
  put_uvarint(body, 0);  // topic tagged fields
  put_uvarint(body, 0);  // request tagged fields
  std::string out;
  put_i32(out, static_cast<std::int32_t>(body.size()));
  return out + body;
}

base::Result<QuorumState> parse_describe_quorum(std::string_view response,
                                                std::int32_t correlation_id) {
  Reader r{response};
  if (r.i32() != correlation_id || r.bad)
    return make_error(Errc::data_error, "not the answer to our DescribeQuorum request");
  r.tagged_fields();  // response header v1
  const auto error = r.i16();
  if (!r.bad && error != 0)
    return make_error(Errc::unavailable, fmt::format("DescribeQuorum: Kafka error code {}", error));
  QuorumState state;
  bool found = false;
  const auto topics = r.array_length();
  for (std::uint32_t t = 0; t < topics && !r.bad; ++t) {
    const auto name = r.compact_string();
    const auto partitions = r.array_length();
    for (std::uint32_t p = 0; p < partitions && !r.bad; ++p) {
      const auto index = r.i32();
      const auto partition_error = r.i16();
      QuorumState s;
      s.leader_id = r.i32();
      s.leader_epoch = r.i32();
      s.high_watermark = r.i64();
      for (auto* list : {&s.voters, &s.observers}) {
        const auto n = r.array_length();
        for (std::uint32_t i = 0; i < n && !r.bad; ++i) {
          list->push_back(r.i32());
          r.i64();  // log end offset
          r.tagged_fields();
        }
      }
      r.tagged_fields();
      if (name == kMetadataTopic && index == 0) {
        if (partition_error != 0)
          return make_error(Errc::unavailable,
                            fmt::format("DescribeQuorum: Kafka error code {}", partition_error));
        state = s;
        found = true;
      }
    }
    r.tagged_fields();
  }
  r.tagged_fields();  // the response's
  if (r.bad) return make_error(Errc::data_error, "a DescribeQuorum answer cut short");
  if (!found) return make_error(Errc::data_error, "DescribeQuorum named no metadata partition");
  return state;
}

namespace {

/// Connects to host:port within the deadline; -1 on failure.
int connect_with_deadline(const std::string& host, int port,
                          std::chrono::steady_clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (auto* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      close(fd);
      fd = -1;
      continue;
    }
    pollfd pfd{fd, POLLOUT, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    int err = 0;
    socklen_t len = sizeof(err);
    if (left <= 0 || poll(&pfd, 1, static_cast<int>(left)) != 1 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  return fd;
}

}  // namespace

base::Result<QuorumState> describe_quorum(const std::string& host, int port, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  const auto where = fmt::format("host={} port={}", host, port);
  const int fd = connect_with_deadline(host, port, deadline);
  if (fd < 0) return make_error(Errc::unavailable, "Kafka does not answer on " + where, where);
  const auto request = encode_describe_quorum(1, "streamflow-control");
  std::string in;
  std::size_t sent = 0;
  std::optional<std::size_t> expected;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) break;
    pollfd pfd{fd, static_cast<short>(sent < request.size() ? POLLOUT : POLLIN), 0};
    if (poll(&pfd, 1, static_cast<int>(left)) != 1) break;
    if (sent < request.size()) {
      const auto n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
      continue;
    }
    char buf[4096];
    const auto n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
    if (!expected && in.size() >= 4) {
      Reader size{in};
      const auto s = size.i32();
      if (s < 0 || s > (1 << 20)) break;
      expected = static_cast<std::size_t>(s) + 4;
    }
    if (expected && in.size() >= *expected) {
      close(fd);
      return parse_describe_quorum(std::string_view(in).substr(4, *expected - 4), 1);
    }
  }
  close(fd);
  return make_error(Errc::unavailable, "no DescribeQuorum answer from " + where, where);
}

}  // namespace streamflow::control

#include "ingest/rows.h"

#include <gtest/gtest.h>

#include "ingest/ingester.h"
#include "ingest/pacing.h"

namespace streamflow::ingest {
namespace {

TEST(Rows, RejectRow) {
  model::Reject r{3, "email: missing", R"({"a":"x\ty"})", std::nullopt};
  std::string out;
  append_reject_row(out, r, "b-1", "http://127.0.0.1:8787/api/");
  // The payload holds a JSON escape (backslash, t): COPY text format doubles the backslash.
  EXPECT_EQ(out, "b-1\thttp://127.0.0.1:8787/api/\t3\t\\N\temail: missing\t{\"a\":\"x\\\\ty\"}\n");
}

TEST(DerivedUuid, StableAndDistinct) {
  auto a = derived_uuid("http://x/api/|seed=s|page=1|results=5000");
  EXPECT_EQ(a, derived_uuid("http://x/api/|seed=s|page=1|results=5000"));
  EXPECT_NE(a, derived_uuid("http://x/api/|seed=s|page=2|results=5000"));
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '8');
  EXPECT_TRUE(a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b');
}

TEST(Backoff, GrowsExponentiallyWithJitterUpToTheCap) {
  using std::chrono::milliseconds;
  EXPECT_EQ(backoff_delay(0, std::nullopt, 0.0), milliseconds(125));
  EXPECT_EQ(backoff_delay(0, std::nullopt, 0.999).count(), 249);
  EXPECT_EQ(backoff_delay(3, std::nullopt, 0.0), milliseconds(1000));
  EXPECT_EQ(backoff_delay(30, std::nullopt, 0.0), milliseconds(5000));
  EXPECT_LE(backoff_delay(30, std::nullopt, 0.999), milliseconds(10000));
}

TEST(Backoff, RetryAfterWins) {
  EXPECT_EQ(backoff_delay(0, 2, 0.0), std::chrono::milliseconds(2000));
  EXPECT_EQ(backoff_delay(5, 0, 0.0), std::chrono::milliseconds(0));
  EXPECT_EQ(backoff_delay(0, 100000, 0.0), std::chrono::milliseconds(300000));
}

}  // namespace
}  // namespace streamflow::ingest

namespace streamflow::ingest {
namespace {

TEST(Binary, TimestampsAreMicrosecondsSince2000Utc) {
  EXPECT_EQ(timestamp_micros("2000-01-01T00:00:00Z"), 0);
  EXPECT_EQ(timestamp_micros("2000-01-01T00:00:01.5Z"), 1500000);
  EXPECT_EQ(timestamp_micros("1999-12-31T23:59:59.999Z"), -1000);
  EXPECT_EQ(timestamp_micros("1992-03-08T15:13:16.688Z"),
            -246617203312000LL);                                // per Python datetime
  EXPECT_EQ(timestamp_micros("2000-01-01T05:45:00+05:45"), 0);  // offsets as served
  EXPECT_EQ(timestamp_micros("1999-12-31T20:30:00-03:30"), 0);
  EXPECT_EQ(timestamp_micros("1983-07-14 07:29:45"),
            timestamp_micros("1983-07-14T07:29:45Z"));             // legacy, UTC
  EXPECT_EQ(timestamp_micros("2000-01-01T00:00:00.0000005Z"), 1);  // rounded half up, as PostgreSQL
  EXPECT_EQ(
      timestamp_micros("1945-06-24T23:56:32.652Z") - timestamp_micros("1945-06-24T23:56:31.652Z"),
      1000000);
}

TEST(Binary, UuidBytes) {
  EXPECT_EQ(uuid_bytes("7a0eed16-9430-4d68-901f-c0d4c1c3bf00"),
            std::string("\x7a\x0e\xed\x16\x94\x30\x4d\x68\x90\x1f\xc0\xd4\xc1\xc3\xbf\x00", 16));
}

TEST(Binary, RowIsThirtyLengthPrefixedFieldsWithNullsAsMinusOne) {
  model::User u;
  u.uuid = "7a0eed16-9430-4d68-901f-c0d4c1c3bf00";
  u.gender = "female";
  u.first_name = "Jennie";
  u.last_name = "Nichols";
  u.email = "jennie.nichols@example.com";
  u.dob = "2000-01-01T00:00:00Z";
  u.dob_age = 26;
  u.nat = "US";
  std::string out;
  copy_binary_header(out);
  EXPECT_EQ(out.size(), 19u);
  EXPECT_EQ(out.substr(0, 11), std::string("PGCOPY\n\xff\r\n\0", 11));
  out.clear();
  append_user_row_binary(out, u, "8f0c8d4e-1c1a-8d3b-9a6e-0123456789ab");
  // Walk the fields: a 2-byte count, then (4-byte length or -1, bytes).
  auto be = [&](std::size_t pos, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(out[pos + i]);
    return v;
  };
  ASSERT_EQ(be(0, 2), 30u);
  std::size_t pos = 2;
  int fields = 0, nulls = 0;
  while (pos < out.size()) {
    const auto len = be(pos, 4);
    pos += 4;
    ++fields;
    if (len == 0xFFFFFFFFu) {
      ++nulls;
      continue;
    }
    pos += len;
  }
  EXPECT_EQ(pos, out.size());
  EXPECT_EQ(fields, 30);
  std::size_t columns = 1;  // the encoder writes kUserColumns, in order
  for (const char* p = kUserColumns; *p; ++p) columns += (*p == ',');
  EXPECT_EQ(columns, 30u);
  EXPECT_EQ(nulls, 30 - 9);  // uuid, gender, first, last, email, dob, dob_age, nat, batch_id set

  // Only the uuid (and the batch) is required: a bare user is 28 nulls.
  model::User bare;
  bare.uuid = "7a0eed16-9430-4d68-901f-c0d4c1c3bf00";
  out.clear();
  append_user_row_binary(out, bare, "8f0c8d4e-1c1a-8d3b-9a6e-0123456789ab");
  pos = 2;
  nulls = 0;
  while (pos < out.size()) {
    const auto len = be(pos, 4);
    pos += 4;
    if (len == 0xFFFFFFFFu) {
      ++nulls;
      continue;
    }
    pos += len;
  }
  EXPECT_EQ(nulls, 28);
}

TEST(Pacing, RequestsAreSpacedByTheIntervalWhateverTheyAskFor) {
  // Three requests at once: 0, 0.5, 1.0 s later.
  double free = 0;
  std::vector<double> at;
  for (int i = 0; i < 3; ++i) {
    const Slot s = next_slot(free, 100.0, 0.5);
    at.push_back(s.at);
    free = s.next_free;
  }
  EXPECT_EQ(at, (std::vector<double>{100.0, 100.5, 101.0}));
  // A request long after the last one goes at once.
  EXPECT_EQ(next_slot(free, 200.0, 0.5).at, 200.0);
  EXPECT_EQ(next_slot(free, 200.0, 0.5).next_free, 200.5);
}

TEST(Pacing, NoLimitMeansNoWait) {
  RequestPacer pacer("http://127.0.0.1:1", 0);
  EXPECT_FALSE(pacer.limited());
  std::atomic<bool> stop{false};
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(pacer.wait(nullptr, stop));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
}

TEST(Pacing, AStopEndsTheWait) {
  RequestPacer pacer("http://example.org:80", 0.001);  // one request every 1000 s
  std::atomic<bool> stop{false};
  EXPECT_TRUE(pacer.wait(nullptr, stop));  // the first goes at once
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(pacer.wait(nullptr, stop));
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(ShowRejects, AJsonLinePerRejectWithItsSanitisedPayload) {
  model::Reject r;
  r.index = 7;
  r.reason = "email: not an email address: 'a\"b'";
  r.raw = R"({"email":"a\"b","id":{"value":"hmac-sha256:00"}})";
  EXPECT_EQ(reject_json(r),
            R"({"reject":7,"reason":"email: not an email address: 'a\"b'","uuid":null,)"
            R"("payload":{"email":"a\"b","id":{"value":"hmac-sha256:00"}}})");
}

}  // namespace
}  // namespace streamflow::ingest

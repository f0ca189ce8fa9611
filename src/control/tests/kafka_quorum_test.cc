#include "control/kafka_quorum.h"

#include <gtest/gtest.h>

namespace streamflow::control {
namespace {

std::string bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s += static_cast<char>(b);
  return s;
}

TEST(KafkaQuorum, TheRequestIsDescribeQuorumV0ForTheMetadataLog) {
  const auto r = encode_describe_quorum(7, "sf");
  // size, api key 55, version 0, correlation 7, client id "sf", no tags, one topic...
  const auto head = bytes({0, 0, 0, 41, 0, 55, 0, 0, 0, 0, 0, 7, 0, 2, 's', 'f', 0, 2, 19});
  ASSERT_EQ(r.substr(0, head.size()), head);
  EXPECT_EQ(r.substr(head.size(), 18), "__cluster_metadata");
  EXPECT_EQ(r.substr(head.size() + 18), bytes({2, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(r.size(), 4u + 41u);
}

std::string answer(int leader, int partition_error = 0) {
  std::string a = bytes({0, 0, 0, 1, 0});  // correlation 1, no tags
  a += bytes({0, 0});                      // no error
  a += bytes({2, 19});                     // one topic
  a += "__cluster_metadata";
  a += bytes({2, 0, 0, 0, 0, 0, static_cast<char>(partition_error)});
  a += bytes({0, 0, 0, static_cast<char>(leader)});  // leader id
  a += bytes({0, 0, 0, 5});                          // leader epoch
  a += bytes({0, 0, 0, 0, 0, 0, 1, 0});              // high watermark 256
  a += bytes({4});                                   // three voters
  for (int id : {1, 2, 3}) a += bytes({0, 0, 0, id, 0, 0, 0, 0, 0, 0, 1, 0, 0});
  a += bytes({1});        // no observers
  a += bytes({0, 0, 0});  // partition, topic, response tags
  return a;
}

TEST(KafkaQuorum, TheLeaderVotersAndWatermarkAreRead) {
  auto s = parse_describe_quorum(answer(2), 1);
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->leader_id, 2);
  EXPECT_EQ(s->leader_epoch, 5);
  EXPECT_EQ(s->high_watermark, 256);
  EXPECT_EQ(s->voters, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(s->observers.empty());
}

TEST(KafkaQuorum, ErrorsAndShortAnswersAreRefused) {
  EXPECT_EQ(parse_describe_quorum(answer(2), 9).error().code, base::Errc::data_error);
  EXPECT_EQ(parse_describe_quorum(answer(2, 6), 1).error().code, base::Errc::unavailable);
  const auto full = answer(2);
  for (std::size_t cut = 0; cut < full.size(); ++cut)
    EXPECT_FALSE(parse_describe_quorum(std::string_view(full).substr(0, cut), 1)) << cut;
}

TEST(KafkaQuorum, NobodyListeningIsUnavailable) {
  auto r = describe_quorum("127.0.0.1", 1, 500);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, base::Errc::unavailable);
}

}  // namespace
}  // namespace streamflow::control

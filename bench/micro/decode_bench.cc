// Micro-benchmarks of the ingest hot path (Google Benchmark): decoding a 5000-record response,
// text normalisation, COPY row rendering. `build/release/bench/micro/decode_bench`.

#include <benchmark/benchmark.h>

#include "ingest/rows.h"
#include "mockapi/generator.h"
#include "model/decode.h"
#include "model/text.h"

#include <simdjson.h>

namespace sf = streamflow;

static std::string response(int n) {
  auto q = sf::mockapi::Query::from_params({{"results", std::to_string(n)}, {"seed", "bench"}});
  return sf::mockapi::generate(*q);
}

static void BM_DecodeResponse5000(benchmark::State& state) {
  const auto body = response(5000);
  const sf::model::IdHasher hasher("bench");
  for (auto _ : state) {
    auto batch = sf::model::decode_response(body, hasher);
    benchmark::DoNotOptimize(batch);
  }
  state.SetItemsProcessed(state.iterations() * 5000);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_DecodeResponse5000)->Unit(benchmark::kMillisecond);

static void BM_NormaliseAsciiField(benchmark::State& state) {
  const std::string v = "jennie.nichols@example.com";
  for (auto _ : state) benchmark::DoNotOptimize(sf::model::normalise_text(v));
}
BENCHMARK(BM_NormaliseAsciiField);

static void BM_CopyRows5000(benchmark::State& state) {
  const sf::model::IdHasher hasher("bench");
  auto batch = sf::model::decode_response(response(5000), hasher);
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (const auto& u : batch->users) {
      sf::ingest::append_user_row_binary(out, u, "8f0c8d4e-1c1a-8d3b-9a6e-0123456789ab");
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * 5000);
}
BENCHMARK(BM_CopyRows5000)->Unit(benchmark::kMillisecond);

static void BM_GenerateResponse5000(benchmark::State& state) {
  auto q = sf::mockapi::Query::from_params({{"results", "5000"}, {"seed", "bench"}});
  for (auto _ : state) benchmark::DoNotOptimize(sf::mockapi::generate(*q));
  state.SetItemsProcessed(state.iterations() * 5000);
}
BENCHMARK(BM_GenerateResponse5000)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();

static void BM_HmacId(benchmark::State& state) {
  const sf::model::IdHasher hasher("bench");
  for (auto _ : state) benchmark::DoNotOptimize(hasher.hash("405-88-3636"));
}
BENCHMARK(BM_HmacId);

static void BM_ParseOnly5000(benchmark::State& state) {
  const auto body = response(5000);
  simdjson::dom::parser parser;
  for (auto _ : state) {
    simdjson::padded_string padded(body);
    auto doc = parser.parse(padded);
    benchmark::DoNotOptimize(doc);
  }
  state.SetItemsProcessed(state.iterations() * 5000);
}
BENCHMARK(BM_ParseOnly5000)->Unit(benchmark::kMillisecond);

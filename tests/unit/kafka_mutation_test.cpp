// Seeded mutation test: valid frames of every API and version (requests and
// responses) and valid record batches, mutated by bit flips, byte overwrites,
// insertions, deletions, truncations and extreme length values. The decoders
// must return an error or a value, never crash or read out of bounds (run
// this binary under -DDMQ_SANITIZE=ON to check the latter), and whatever they
// accept must re-encode to a fixed point.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kafka/protocol/record_batch.h"
#include "kafka/protocol/request.h"

using namespace dmq::kafka;

namespace {

constexpr uint64_t kSeed = 20261127;
constexpr int kFrameIterations = 400'000;
constexpr int kBatchIterations = 100'000;

struct Corpus {
  std::vector<std::string> requests;  // frames without size prefix
  struct Response {
    ApiKey key;
    int16_t version;
    std::string frame;
  };
  std::vector<Response> responses;
};

template <class Req, class Resp>
void add_api(Corpus& c) {
  const ApiInfo* api = find_api(Req::kApiKey);
  for (int16_t v = api->min_version; v <= api->max_version; ++v) {
    for (uint64_t seed = 0; seed < 3; ++seed) {
      Req req;
      sample(req, v, seed);
      c.requests.push_back(encode_request(v, 7, "mut", req).bytes.substr(4));
      Resp resp;
      sample(resp, v, seed);
      RequestHeader h{static_cast<int16_t>(Req::kApiKey), v, 7, std::nullopt};
      c.responses.push_back({Req::kApiKey, v, encode_response(h, resp).bytes.substr(4)});
    }
  }
}

Corpus build_corpus() {
  Corpus c;
#define DMQ_KAFKA_ADD(key, req, resp) add_api<req, resp>(c);
  DMQ_KAFKA_APIS(DMQ_KAFKA_ADD)
#undef DMQ_KAFKA_ADD
  return c;
}

void mutate(std::string& b, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  int rounds = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < rounds; ++i) {
    switch (rng() % 7) {
      case 0:  // flip a bit
        if (!b.empty()) b[pick(b.size())] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:  // overwrite a byte
        if (!b.empty()) b[pick(b.size())] = static_cast<char>(rng());
        break;
      case 2:  // insert bytes
        b.insert(pick(b.size() + 1), std::string(1 + pick(8), static_cast<char>(rng())));
        break;
      case 3:  // delete a range
        if (!b.empty()) b.erase(pick(b.size()), 1 + pick(8));
        break;
      case 4:  // truncate
        b.resize(pick(b.size() + 1));
        break;
      case 5: {  // an extreme length/count: 0xff.. or 0x7f ff ..
        if (b.size() < 4) break;
        size_t at = pick(b.size() - 3);
        b[at] = static_cast<char>(rng() & 1 ? 0xFF : 0x7F);
        b[at + 1] = b[at + 2] = b[at + 3] = static_cast<char>(0xFF);
        break;
      }
      case 6:  // a long varint run
        if (!b.empty()) b.replace(pick(b.size()), 0, std::string(1 + pick(12), '\x80'));
        break;
    }
  }
}

// Whatever decodes must re-encode, and the re-encoding must be a fixed point.
bool check_request(std::string_view frame) {
  Request req;
  CodecError e = decode_request(frame, req);
  if (e != CodecError::kOk) return false;
  std::visit(
      [&](const auto& body) {
        using Req = std::decay_t<decltype(body)>;
        if constexpr (!std::is_same_v<Req, std::monostate>) {
          int16_t v = req.header.api_version;
          EncodedFrame once = encode_request(v, req.header.correlation_id, "x", body);
          Request again;
          REQUIRE(decode_request(std::string_view(once.bytes).substr(4), again) == CodecError::kOk);
          EncodedFrame twice =
              encode_request(v, req.header.correlation_id, "x", std::get<Req>(again.body));
          CHECK(once.bytes == twice.bytes);
          EncodedFrame err = encode_error_response(req, ErrorCode::kUnknownServerError);
          CHECK(err.bytes.size() >= 8);
        }
      },
      req.body);
  return true;
}

template <class Resp>
void check_response_as(std::string_view frame, int16_t version) {
  Resp out;
  int32_t corr = 0;
  if (decode_response(frame, version, corr, out) != CodecError::kOk) return;
  Writer w;
  encode(w, version, out);
  Resp back;
  REQUIRE(decode(w.bytes(), version, back) == CodecError::kOk);
}

void check_response(ApiKey key, int16_t version, std::string_view frame) {
  switch (key) {
#define DMQ_KAFKA_RESP_CASE(k, req, resp)    \
  case ApiKey::k:                            \
    check_response_as<resp>(frame, version); \
    return;
    DMQ_KAFKA_APIS(DMQ_KAFKA_RESP_CASE)
#undef DMQ_KAFKA_RESP_CASE
  }
}

void check_batch(std::string& set) {
  BatchLimits limits;
  limits.single_batch = false;
  RecordSetInfo info = validate_record_set(set, limits);
  (void)valid_prefix_length(set);
  if (info.error != BatchError::kOk) return;
  int64_t next = assign_offsets(set.data(), set.size(), 1000, 3);
  CHECK(next == 1000 + info.record_count);
  // Accepted batches must still iterate (or fail cleanly) record by record.
  size_t pos = 0;
  while (pos < set.size()) {
    BatchHeader h;
    REQUIRE(read_batch_header(std::string_view(set).substr(pos), h) == BatchError::kOk);
    std::string payload;
    if (decompress_records(std::string_view(set).substr(pos, h.total_size()), payload, 1 << 20) ==
        BatchError::kOk) {
      RecordIterator it(payload, h.record_count);
      Record r;
      while (it.next(r)) {
      }
    }
    pos += h.total_size();
  }
}

std::string sample_batches() {
  RecordBatchBuilder a;
  a.add(1700000000000, std::string_view("key"), std::string_view("value"),
        {{"h1", std::string_view("v1")}, {"h2", std::nullopt}});
  a.add(1700000000001, std::nullopt, std::nullopt);
  RecordBatchBuilder::Options o;
  o.producer_id = 5;
  o.producer_epoch = 1;
  o.base_sequence = 10;
  RecordBatchBuilder b(o);
  for (int i = 0; i < 5; ++i) b.add(1700000000100 + i, std::nullopt, std::string_view("x"));
  return a.build() + b.build();
}

}  // namespace

TEST_CASE("mutated request and response frames never crash the decoders") {
  Corpus corpus = build_corpus();
  REQUIRE_FALSE(corpus.requests.empty());
  std::mt19937_64 rng(kSeed);
  int accepted = 0;
  for (int i = 0; i < kFrameIterations; ++i) {
    CAPTURE(kSeed);
    CAPTURE(i);
    if (i % 2 == 0) {
      std::string frame = corpus.requests[rng() % corpus.requests.size()];
      mutate(frame, rng);
      if (check_request(frame)) ++accepted;
    } else {
      const auto& r = corpus.responses[rng() % corpus.responses.size()];
      std::string frame = r.frame;
      mutate(frame, rng);
      check_response(r.key, r.version, frame);
    }
  }
  // Many mutations (e.g. in integer fields) still decode: the re-encoding
  // checks above really ran.
  CHECK(accepted > kFrameIterations / 50);
}

TEST_CASE("mutated record batches are rejected or handled, never crash") {
  const std::string base = sample_batches();
  BatchLimits limits;
  limits.single_batch = false;
  REQUIRE(validate_record_set(base, limits).error == BatchError::kOk);
  std::mt19937_64 rng(kSeed + 1);
  int accepted = 0;
  for (int i = 0; i < kBatchIterations; ++i) {
    CAPTURE(i);
    std::string set = base;
    mutate(set, rng);
    check_batch(set);
    BatchLimits strict;
    if (validate_record_set(set, strict).error == BatchError::kOk) ++accepted;
  }
  // Mutations almost always break the CRC; a handful that touch only bytes
  // outside it (base offset, leader epoch) or cut whole batches are accepted.
  CHECK(accepted < kBatchIterations / 4);
}

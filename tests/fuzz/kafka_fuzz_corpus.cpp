// Writes a seed corpus: <dir>/requests/ (request frames of every API and
// version, plus response frames prefixed by key and version) and
// <dir>/batches/ (record sets, with and without the CRC fix-up flag).
// Also writes <dir>/samples.txt, one "<api key> <version> <q|s> <hex body>"
// line per sample message, for checking the codec against the Kafka JSON
// schemas with an independent schema-driven decoder.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "../unit/kafka_test_bytes.h"
#include "kafka/protocol/message_set.h"
#include "kafka/protocol/record_batch.h"
#include "kafka/protocol/request.h"

using namespace dmq::kafka;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

template <class Req, class Resp>
void dump_all_samples(std::ofstream& out) {
  const ApiInfo* api = find_api(Req::kApiKey);
  for (int16_t v = api->min_version; v <= api->max_version; ++v) {
    test::write_schema_samples<Req>(out, v, 'q', 5);
    test::write_schema_samples<Resp>(out, v, 's', 5);
  }
}

template <class Req, class Resp>
void add_api(const fs::path& dir, int& n) {
  const ApiInfo* api = find_api(Req::kApiKey);
  for (int16_t v = api->min_version; v <= api->max_version; ++v) {
    for (uint64_t seed = 0; seed < 2; ++seed) {
      Req req;
      sample(req, v, seed);
      write(dir / ("req-" + std::to_string(n++)), encode_request(v, 1, "c", req).bytes.substr(4));
      Resp resp;
      sample(resp, v, seed);
      RequestHeader h{static_cast<int16_t>(Req::kApiKey), v, 1, std::nullopt};
      Writer prefix;
      prefix.i16(static_cast<int16_t>(Req::kApiKey));
      prefix.i16(v);
      write(dir / ("resp-" + std::to_string(n++)),
            prefix.take_bytes() + encode_response(h, resp).bytes.substr(4));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
    return 2;
  }
  fs::path root(argv[1]);
  fs::create_directories(root / "requests");
  fs::create_directories(root / "batches");
  int n = 0;
  std::ofstream samples(root / "samples.txt");
#define DMQ_KAFKA_CORPUS(key, req, resp)    \
  add_api<req, resp>(root / "requests", n); \
  dump_all_samples<req, resp>(samples);
  DMQ_KAFKA_APIS(DMQ_KAFKA_CORPUS)
#undef DMQ_KAFKA_CORPUS
  RecordBatchBuilder a;
  a.add(1700000000000, std::string_view("k"), std::string_view("v"), {{"h", std::nullopt}});
  a.add(1700000000001, std::nullopt, std::string_view("value"));
  std::string batch = a.build();
  const std::string plain(1, '\0');
  const std::string fix_crc(1, '\1');
  write(root / "batches" / "one", plain + batch);
  write(root / "batches" / "one-fix", fix_crc + batch);
  write(root / "batches" / "two-fix", fix_crc + batch + batch);
  // Old-format message sets for kafka_message_set_fuzz (mode byte first).
  fs::create_directories(root / "message_sets");
  write(root / "message_sets" / "magic0",
        std::string(1, '\2') + down_convert(batch, 0, 0, SIZE_MAX).message_set);
  write(root / "message_sets" / "magic1",
        std::string(1, '\6') + down_convert(batch, 1, 0, SIZE_MAX).message_set);
  write(root / "message_sets" / "stored", std::string(1, '\5') + batch + batch);
  std::printf("wrote %d frames\n", n);
  return 0;
}

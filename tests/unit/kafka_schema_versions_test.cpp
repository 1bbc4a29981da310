// Every served API against Kafka 3.7.1's own message schemas, read at test
// time: the API table must serve exactly the schema's `validVersions` (from v0
// up), every one of those versions round-trips for requests and responses,
// and the bytes DMQ encodes at each version are decoded exactly by an
// independent schema-driven decoder (tests/fuzz/check_schemas.py), so a field
// present in the wrong versions fails here rather than in a client.
//
// The schemas live in ../shared/kafka-protocol/schemas next to the repository;
// DMQ_KAFKA_SCHEMAS overrides the directory. A checkout without them uses
// tests/unit/kafka_schema_versions.txt (validVersions generated from the
// schemas by gen_kafka_schema_versions.py, and checked against them whenever
// they are there) and skips the independent decoder, saying so.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <unistd.h>

#include "kafka/protocol/request.h"
#include "kafka_test_bytes.h"

using namespace dmq::kafka;
using namespace dmq::kafka::test;
namespace fs = std::filesystem;

namespace {

fs::path schemas_dir() {
  if (const char* env = std::getenv("DMQ_KAFKA_SCHEMAS")) return env;
  return fs::path(DMQ_SOURCE_DIR) / ".." / "shared" / "kafka-protocol" / "schemas";
}

struct VersionRange {
  int lo = -1;
  int hi = -1;
};

bool have_schemas() {
  return fs::is_directory(schemas_dir());
}

// `"validVersions": "0-10"` (or a single "0") of <Name>Request.json.
VersionRange versions_from_schema(std::string_view api_name) {
  fs::path path = schemas_dir() / (std::string(api_name) + "Request.json");
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read ", path.string());
  std::stringstream text;
  text << in.rdbuf();
  static const std::regex kValid(R"re("validVersions"\s*:\s*"(\d+)(?:-(\d+))?")re");
  std::smatch m;
  std::string body = text.str();
  REQUIRE(std::regex_search(body, m, kValid));
  VersionRange r;
  r.lo = std::stoi(m[1].str());
  r.hi = m[2].matched ? std::stoi(m[2].str()) : r.lo;
  return r;
}

// The same from the generated table ("Name lo hi" lines).
VersionRange versions_from_table(std::string_view api_name) {
  std::ifstream in(DMQ_SOURCE_DIR "/tests/unit/kafka_schema_versions.txt");
  REQUIRE_MESSAGE(in.good(), "cannot read tests/unit/kafka_schema_versions.txt");
  std::string name;
  VersionRange r;
  while (in >> name) {
    if (name.starts_with("#")) {
      std::getline(in, name);
      continue;
    }
    in >> r.lo >> r.hi;
    if (name == api_name) return r;
  }
  FAIL("no line for ", std::string(api_name), " in kafka_schema_versions.txt");
  return r;
}

VersionRange schema_versions(std::string_view api_name) {
  VersionRange table = versions_from_table(api_name);
  if (!have_schemas()) return table;
  VersionRange schema = versions_from_schema(api_name);
  // The table must say what the schemas say (regenerate it if not).
  CHECK(table.lo == schema.lo);
  CHECK(table.hi == schema.hi);
  return schema;
}

constexpr uint64_t kSeeds = 8;

template <class M>
void check_round_trip(int16_t v, uint64_t seed) {
  M m;
  sample(m, v, seed);
  Writer w;
  encode(w, v, m);
  M back;
  REQUIRE(decode(w.bytes(), v, back) == CodecError::kOk);
  Writer again;
  encode(again, v, back);
  CHECK(hex(again.bytes()) == hex(w.bytes()));
}

template <class Req, class Resp>
void check_api_against_schema(std::ofstream& samples) {
  const ApiInfo* api = find_api(Req::kApiKey);
  REQUIRE(api != nullptr);
  CAPTURE(api->name);
  VersionRange schema = schema_versions(api->name);
  CHECK(api->min_version == schema.lo);
  CHECK(api->max_version == schema.hi);
  for (int v = schema.lo; v <= schema.hi; ++v) {
    CAPTURE(v);
    const auto version = static_cast<int16_t>(v);
    REQUIRE(version_supported(*api, version));
    for (uint64_t seed = 0; seed < kSeeds; ++seed) {
      check_round_trip<Req>(version, seed);
      check_round_trip<Resp>(version, seed + 100);
    }
    write_schema_samples<Req>(samples, version, 'q', 3);
    write_schema_samples<Resp>(samples, version, 's', 3);
  }
}

}  // namespace

TEST_CASE("every served API serves exactly the schema's validVersions and each round-trips") {
  fs::path out_dir = fs::temp_directory_path() / ("dmq-schema-" + std::to_string(::getpid()));
  fs::create_directories(out_dir);
  fs::path samples_path = out_dir / "samples.txt";
  {
    std::ofstream samples(samples_path);
#define DMQ_KAFKA_SCHEMA_CHECK(key, req, resp) check_api_against_schema<req, resp>(samples);
    DMQ_KAFKA_APIS(DMQ_KAFKA_SCHEMA_CHECK)
#undef DMQ_KAFKA_SCHEMA_CHECK
  }
  if (!have_schemas()) {
    MESSAGE("no schemas at ", schemas_dir().string(),
            ": versions checked against kafka_schema_versions.txt, independent decode skipped");
    fs::remove_all(out_dir);
    return;
  }
  // The independent decoder walks each sample with the schema's field list.
  std::string cmd = "/usr/bin/python3 '" DMQ_SOURCE_DIR "/tests/fuzz/check_schemas.py' '" +
                    schemas_dir().string() + "' '" + samples_path.string() + "' > '" +
                    (out_dir / "check.log").string() + "' 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream log(out_dir / "check.log");
  std::stringstream text;
  text << log.rdbuf();
  INFO(text.str());
  CHECK(rc == 0);
  fs::remove_all(out_dir);
}

#include <doctest/doctest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>

#include <random>
#include <string>

#include "store/lmdb.h"

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("dmq_lmdb_test_" + std::to_string(::getpid()) +
                                                     "_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

using dmq::store::Env;

TEST_CASE("big-endian keys sort numerically") {
  CHECK(dmq::store::be64_key(1) < dmq::store::be64_key(256));
  CHECK(dmq::store::be64_key(255) < dmq::store::be64_key(256));
  CHECK(dmq::store::decode_be64(dmq::store::be64_key(0x0102030405060708ull)) ==
        0x0102030405060708ull);

  TempDir dir;
  auto env = Env::open({.path = dir.path.string()});
  auto db = env->open_db("numbers");
  env->write([&](dmq::store::WriteTxn& txn) {
    for (uint64_t v : {300u, 2u, 70000u, 1u}) txn.put(db, dmq::store::be64_key(v), "x");
  });
  std::vector<uint64_t> seen;
  env->read([&](const dmq::store::ReadTxn& txn) {
    auto cursor = txn.cursor(db);
    for (bool ok = cursor.first(); ok; ok = cursor.next()) {
      seen.push_back(dmq::store::decode_be64(cursor.key()));
    }
  });
  CHECK(seen == std::vector<uint64_t>{1, 2, 300, 70000});
}

TEST_CASE("writes persist across reopen") {
  TempDir dir;
  {
    auto env = Env::open({.path = dir.path.string()});
    auto db = env->open_db("kv");
    env->write([&](dmq::store::WriteTxn& txn) { txn.put(db, "key", "value"); });
  }
  auto env = Env::open({.path = dir.path.string()});
  auto db = env->open_db("kv");
  env->read([&](const dmq::store::ReadTxn& txn) {
    auto value = txn.get(db, "key");
    REQUIRE(value.has_value());
    CHECK(*value == "value");
    CHECK_FALSE(txn.get(db, "other").has_value());
  });
}

TEST_CASE("an exception aborts the write transaction and leaves no trace") {
  TempDir dir;
  auto env = Env::open({.path = dir.path.string()});
  auto db = env->open_db("kv");
  CHECK_THROWS_AS(env->write([&](dmq::store::WriteTxn& txn) {
    txn.put(db, "a", "1");
    throw std::runtime_error("apply failed");
  }),
                  std::runtime_error);
  env->read([&](const dmq::store::ReadTxn& txn) { CHECK_FALSE(txn.get(db, "a").has_value()); });
}

TEST_CASE("the map grows when it fills, without losing data") {
  TempDir dir;
  auto env = Env::open({.path = dir.path.string(), .initial_map_bytes = 256 * 1024});
  auto db = env->open_db("big");
  size_t initial = env->map_size();
  std::string value(4000, 'v');
  // 4 MB into a 256 KiB map: several doublings, some in the middle of a transaction.
  for (int batch = 0; batch < 10; ++batch) {
    env->write([&](dmq::store::WriteTxn& txn) {
      for (int i = 0; i < 100; ++i) txn.put(db, dmq::store::be64_key(batch * 100 + i), value);
    });
  }
  CHECK(env->map_size() > initial);
  env->read([&](const dmq::store::ReadTxn& txn) {
    CHECK(txn.entries(db) == 1000);
    CHECK(txn.get(db, dmq::store::be64_key(999))->size() == 4000);
  });
}

TEST_CASE("a corrupt or foreign file gives a clear error") {
  TempDir dir;
  {
    std::ofstream f(dir.path / "data.mdb", std::ios::binary);
    std::string garbage(64 * 1024, '\x5a');
    f << garbage;
  }
  try {
    Env::open({.path = dir.path.string()});
    FAIL("opened a garbage file");
  } catch (const dmq::store::StoreError& e) {
    std::string what = e.what();
    CHECK(what.find(dir.path.string()) != std::string::npos);
    CHECK(what.find("not an LMDB file") != std::string::npos);
  }
}

TEST_CASE("delete and clear") {
  TempDir dir;
  auto env = Env::open({.path = dir.path.string()});
  auto db = env->open_db("kv");
  env->write([&](dmq::store::WriteTxn& txn) {
    txn.put(db, "a", "1");
    txn.put(db, "b", "2");
    CHECK(txn.del(db, "a"));
    CHECK_FALSE(txn.del(db, "zzz"));
  });
  env->read([&](const dmq::store::ReadTxn& txn) { CHECK(txn.entries(db) == 1); });
  env->write([&](dmq::store::WriteTxn& txn) { txn.clear(db); });
  env->read([&](const dmq::store::ReadTxn& txn) { CHECK(txn.entries(db) == 0); });
}

TEST_CASE("an undoable write commits like any other and leaves later writes durable") {
  TempDir dir;
  {
    auto env = Env::open({.path = dir.path.string()});
    auto db = env->open_db("kv");
    env->write_undoable([&](dmq::store::WriteTxn& txn) { txn.put(db, "applied", "1"); });
    env->read([&](const dmq::store::ReadTxn& txn) { CHECK(*txn.get(db, "applied") == "1"); });
    env->write([&](dmq::store::WriteTxn& txn) { txn.put(db, "log", "2"); });
  }
  auto env = Env::open({.path = dir.path.string()});
  auto db = env->open_db("kv");
  env->read([&](const dmq::store::ReadTxn& txn) {
    CHECK(*txn.get(db, "applied") == "1");
    CHECK(*txn.get(db, "log") == "2");
  });
}

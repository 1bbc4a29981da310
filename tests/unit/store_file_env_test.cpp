// FileEnv implementations: POSIX and in-memory behave alike; the fault env
// forgets exactly what was not made durable. Also CRC32C known answers.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "common/crc32c.h"
#include "store/file_env.h"

using namespace dmq::store;

namespace {

std::string read_file(FileEnv& env, const std::string& path) {
  std::unique_ptr<File> f;
  REQUIRE(env.open(path, false, &f).ok());
  uint64_t size = 0;
  REQUIRE(f->size(&size).ok());
  std::string out(size, '\0');
  size_t n = 0;
  REQUIRE(f->read_at(0, out, &n).ok());
  out.resize(n);
  return out;
}

void write_file(FileEnv& env, const std::string& path, std::string_view data, bool sync) {
  std::unique_ptr<File> f;
  REQUIRE(env.open(path, true, &f).ok());
  REQUIRE(f->truncate(0).ok());
  REQUIRE(f->append(data).ok());
  if (sync) REQUIRE(f->sync().ok());
}

// The contract every env must meet.
void exercise(FileEnv& env, const std::string& dir) {
  REQUIRE(env.create_dirs(dir + "/a/b").ok());
  std::unique_ptr<File> f;
  CHECK(env.open(dir + "/a/b/x", false, &f).code == IoCode::kNotFound);
  REQUIRE(env.open(dir + "/a/b/x", true, &f).ok());
  REQUIRE(f->append("hello").ok());
  REQUIRE(f->write_at(10, "world").ok());  // a hole reads as zeros
  uint64_t size = 0;
  REQUIRE(f->size(&size).ok());
  CHECK(size == 15);
  std::string buf(20, '?');
  size_t n = 0;
  REQUIRE(f->read_at(8, buf, &n).ok());
  CHECK(n == 7);
  CHECK(buf.substr(0, 7) == std::string("\0\0world", 7));
  REQUIRE(f->sync().ok());
  REQUIRE(f->truncate(5).ok());
  REQUIRE(f->size(&size).ok());
  CHECK(size == 5);
  f.reset();
  CHECK(read_file(env, dir + "/a/b/x") == "hello");

  REQUIRE(env.rename(dir + "/a/b/x", dir + "/a/b/y").ok());
  CHECK(!env.exists(dir + "/a/b/x"));
  CHECK(env.exists(dir + "/a/b/y"));
  write_file(env, dir + "/a/b/z", "zz", false);
  REQUIRE(env.rename(dir + "/a/b/z", dir + "/a/b/y").ok());  // replaces
  CHECK(read_file(env, dir + "/a/b/y") == "zz");
  std::vector<std::string> names;
  REQUIRE(env.list(dir + "/a/b", &names).ok());
  CHECK(names == std::vector<std::string>{"y"});
  REQUIRE(env.sync_dir(dir + "/a/b").ok());
  REQUIRE(env.remove(dir + "/a/b/y").ok());
  CHECK(env.remove(dir + "/a/b/y").code == IoCode::kNotFound);
  REQUIRE(env.list(dir + "/a/b", &names).ok());
  CHECK(names.empty());
}

}  // namespace

TEST_CASE("CRC32C matches the Castagnoli check values") {
  CHECK(dmq::crc32c("123456789") == 0xE3069283u);
  CHECK(dmq::crc32c("") == 0u);
  CHECK(dmq::crc32c(std::string(32, '\0')) == 0x8A9136AAu);  // RFC 3720 B.4
  CHECK(dmq::crc32c(std::string(32, '\xff')) == 0x62A8AB43u);
  std::string long_text(1000, 'q');
  for (size_t i = 0; i < long_text.size(); ++i) long_text[i] = static_cast<char>(i * 7);
  for (size_t cut : {0, 1, 7, 8, 9, 500, 999}) {
    uint32_t split = dmq::crc32c_extend(dmq::crc32c_extend(0, long_text.data(), cut),
                                        long_text.data() + cut, long_text.size() - cut);
    CHECK(split == dmq::crc32c(long_text));
  }
}

TEST_CASE("POSIX env meets the FileEnv contract and exposes fds") {
  char templ[] = "/tmp/dmq-file-env-XXXXXX";
  REQUIRE(::mkdtemp(templ) != nullptr);
  std::string dir = templ;
  FileEnv& env = posix_file_env();
  exercise(env, dir);
  std::unique_ptr<File> f;
  REQUIRE(env.open(dir + "/fd", true, &f).ok());
  CHECK(f->fd() >= 0);
  f.reset();
  REQUIRE(env.remove(dir + "/fd").ok());
  ::rmdir((dir + "/a/b").c_str());
  ::rmdir((dir + "/a").c_str());
  CHECK(::rmdir(dir.c_str()) == 0);  // the test left nothing behind
}

TEST_CASE("memory env meets the FileEnv contract") {
  MemFileEnv env;
  exercise(env, "/mem");
  std::unique_ptr<File> f;
  CHECK(env.open("/nowhere/x", true, &f).code == IoCode::kNotFound);
}

TEST_CASE("fault env over memory meets the FileEnv contract") {
  MemFileEnv mem;
  FaultFileEnv env(mem);
  exercise(env, "/fault");
}

TEST_CASE("power off keeps synced contents and dir-synced names only") {
  MemFileEnv mem;
  FaultFileEnv env(mem);
  REQUIRE(env.create_dirs("/d").ok());
  write_file(env, "/d/durable", "old", true);
  REQUIRE(env.sync_dir("/d").ok());
  std::unique_ptr<File> f;
  REQUIRE(env.open("/d/durable", false, &f).ok());
  REQUIRE(f->append("+unsynced").ok());
  write_file(env, "/d/synced-but-name-not", "data", true);
  write_file(env, "/d/named-not-synced", "data", false);
  REQUIRE(env.sync_dir("/d").ok());  // names durable, contents of the last one not
  write_file(env, "/d/new", "x", true);

  env.power_off();
  CHECK(f->append("more").code == IoCode::kPoweredOff);  // handles from before are dead
  CHECK(read_file(env, "/d/durable") == "old");
  CHECK(read_file(env, "/d/synced-but-name-not") == "data");
  CHECK(read_file(env, "/d/named-not-synced").empty());
  CHECK(!env.exists("/d/new"));
}

TEST_CASE("power off undoes unsynced renames and removals, and can tear writes") {
  MemFileEnv mem;
  FaultFileEnv env(mem);
  REQUIRE(env.create_dirs("/d").ok());
  write_file(env, "/d/a", "AAAA", true);
  write_file(env, "/d/b", "BBBB", true);
  REQUIRE(env.sync_dir("/d").ok());
  REQUIRE(env.rename("/d/a", "/d/c").ok());
  REQUIRE(env.remove("/d/b").ok());
  env.power_off();
  CHECK(read_file(env, "/d/a") == "AAAA");
  CHECK(read_file(env, "/d/b") == "BBBB");
  CHECK(!env.exists("/d/c"));

  std::unique_ptr<File> f;
  REQUIRE(env.open("/d/a", false, &f).ok());
  REQUIRE(f->append("1234").ok());
  REQUIRE(f->append("5678").ok());
  env.power_off(6);  // the first write lands whole, the second only in part
  CHECK(read_file(env, "/d/a") == "AAAA123456");
}

TEST_CASE("fault env injects fsync failures and short writes") {
  MemFileEnv mem;
  FaultFileEnv env(mem);
  REQUIRE(env.create_dirs("/d").ok());
  std::unique_ptr<File> f;
  REQUIRE(env.open("/d/x.log", true, &f).ok());
  REQUIRE(env.sync_dir("/d").ok());
  REQUIRE(f->append("abc").ok());
  env.fail_syncs(".log", 1);
  CHECK(f->sync().code == IoCode::kIoError);
  CHECK(env.sync_count() == 0);
  env.power_off();  // the failed sync made nothing durable
  CHECK(read_file(env, "/d/x.log").empty());

  REQUIRE(env.open("/d/x.log", false, &f).ok());
  env.short_write_next("x.log", 2);
  CHECK(f->append("hello").code == IoCode::kIoError);
  CHECK(read_file(env, "/d/x.log") == "he");
  REQUIRE(f->append("llo").ok());  // only the next write was cut
  REQUIRE(f->sync().ok());
  CHECK(env.sync_count() == 1);
  env.power_off();
  CHECK(read_file(env, "/d/x.log") == "hello");
}

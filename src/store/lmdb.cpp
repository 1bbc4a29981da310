#include "store/lmdb.h"

#include <sys/stat.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace dmq::store {
namespace {

MDB_val to_val(std::string_view bytes) {
  return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};
}

std::string_view to_view(const MDB_val& val) {
  return {static_cast<const char*>(val.mv_data), val.mv_size};
}

// Thrown inside a write transaction when the map is full, caught by Env::write.
struct MapFull {};

void check(int rc, const std::string& what) {
  if (rc == MDB_MAP_FULL) throw MapFull{};
  if (rc != MDB_SUCCESS) throw StoreError(what + ": " + mdb_strerror(rc), rc);
}

}  // namespace

StoreError::StoreError(const std::string& what, int lmdb_code)
    : std::runtime_error(what), lmdb_code_(lmdb_code) {}

std::string be64_key(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

uint64_t decode_be64(std::string_view bytes) {
  assert(bytes.size() == 8);
  uint64_t value = 0;
  for (unsigned char c : bytes) value = (value << 8) | c;
  return value;
}

Cursor::Cursor(MDB_txn* txn, Dbi dbi) {
  check(mdb_cursor_open(txn, dbi, &cursor_), "open cursor");
}

Cursor::~Cursor() {
  mdb_cursor_close(cursor_);
}

bool Cursor::move(MDB_cursor_op op, std::string_view seek_key) {
  MDB_val key = to_val(seek_key);
  MDB_val value{};
  int rc = mdb_cursor_get(cursor_, &key, &value, op);
  if (rc == MDB_NOTFOUND) {
    key_ = {};
    value_ = {};
    return false;
  }
  check(rc, "cursor");
  key_ = to_view(key);
  value_ = to_view(value);
  return true;
}

bool Cursor::first() {
  return move(MDB_FIRST);
}
bool Cursor::last() {
  return move(MDB_LAST);
}
bool Cursor::next() {
  return move(MDB_NEXT);
}
bool Cursor::prev() {
  return move(MDB_PREV);
}
bool Cursor::seek(std::string_view key) {
  return move(MDB_SET_RANGE, key);
}

std::optional<std::string_view> ReadTxn::get(Dbi dbi, std::string_view key) const {
  MDB_val k = to_val(key);
  MDB_val v{};
  int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  check(rc, "get");
  return to_view(v);
}

uint64_t ReadTxn::entries(Dbi dbi) const {
  MDB_stat stat{};
  check(mdb_stat(txn_, dbi, &stat), "stat");
  return stat.ms_entries;
}

void WriteTxn::put(Dbi dbi, std::string_view key, std::string_view value) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  check(mdb_put(txn_, dbi, &k, &v, 0), "put");
}

bool WriteTxn::del(Dbi dbi, std::string_view key) {
  MDB_val k = to_val(key);
  int rc = mdb_del(txn_, dbi, &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  check(rc, "delete");
  return true;
}

void WriteTxn::clear(Dbi dbi) {
  check(mdb_drop(txn_, dbi, 0), "clear");
}

Env::Env(MDB_env* env, std::string path) : env_(env), path_(std::move(path)) {}

Env::~Env() {
  mdb_env_close(env_);
}

std::unique_ptr<Env> Env::open(const Options& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    throw StoreError("cannot create " + options.path + ": " + ec.message(), 0);
  }
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc != MDB_SUCCESS) throw StoreError(std::string("lmdb: ") + mdb_strerror(rc), rc);
  mdb_env_set_maxdbs(env, options.max_dbs);
  mdb_env_set_mapsize(env, options.initial_map_bytes);
  // MDB_NOTLS: read transactions are not tied to threads (the HTTP threads read too).
  unsigned flags = MDB_NOTLS;
  if (!options.sync_on_commit) flags |= MDB_NOSYNC;
  rc = mdb_env_open(env, options.path.c_str(), flags, 0640);
  if (rc != MDB_SUCCESS) {
    mdb_env_close(env);
    std::string cause = mdb_strerror(rc);
    if (rc == MDB_INVALID) cause = "not an LMDB file, or corrupt";
    if (rc == MDB_VERSION_MISMATCH) cause = "written by an incompatible LMDB version";
    throw StoreError("cannot open LMDB environment in " + options.path + ": " + cause, rc);
  }
  // If the file on disk is bigger than the requested map (it grew in an earlier
  // run), LMDB adopts the file's size; nothing to do.
  return std::unique_ptr<Env>(new Env(env, options.path));
}

Dbi Env::open_db(const std::string& name) {
  Dbi dbi = 0;
  write([&](WriteTxn& txn) {
    check(mdb_dbi_open(txn.txn_, name.c_str(), MDB_CREATE, &dbi), "open database " + name);
  });
  return dbi;
}

void Env::read(const std::function<void(const ReadTxn&)>& fn) {
  std::shared_lock resize_lock(resize_mutex_);
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (rc == MDB_MAP_RESIZED) {
    // Another process grew the map: adopt its size and retry.
    mdb_env_set_mapsize(env_, 0);
    rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  }
  check(rc, "begin read transaction");
  ReadTxn handle(txn);
  try {
    fn(handle);
  } catch (...) {
    mdb_txn_abort(txn);
    throw;
  }
  mdb_txn_abort(txn);
}

void Env::write(const std::function<void(WriteTxn&)>& fn) {
  std::lock_guard writer_lock(writer_mutex_);
  while (!try_write(fn)) grow_map();
}

void Env::write_undoable(const std::function<void(WriteTxn&)>& fn) {
  std::lock_guard writer_lock(writer_mutex_);
  // Writers are serialized by writer_mutex_, so the flag covers exactly
  // this transaction's commit.
  mdb_env_set_flags(env_, MDB_NOMETASYNC, 1);
  try {
    while (!try_write(fn)) grow_map();
  } catch (...) {
    mdb_env_set_flags(env_, MDB_NOMETASYNC, 0);
    throw;
  }
  mdb_env_set_flags(env_, MDB_NOMETASYNC, 0);
}

bool Env::try_write(const std::function<void(WriteTxn&)>& fn) {
  std::shared_lock resize_lock(resize_mutex_);
  MDB_txn* txn = nullptr;
  check(mdb_txn_begin(env_, nullptr, 0, &txn), "begin write transaction");
  WriteTxn handle(txn);
  try {
    fn(handle);
  } catch (const MapFull&) {
    mdb_txn_abort(txn);
    return false;
  } catch (...) {
    mdb_txn_abort(txn);
    throw;
  }
  // mdb_txn_commit frees the transaction whatever it returns.
  int rc = mdb_txn_commit(txn);
  if (rc == MDB_MAP_FULL) return false;
  if (rc != MDB_SUCCESS) throw StoreError(std::string("commit: ") + mdb_strerror(rc), rc);
  return true;
}

void Env::grow_map() {
  std::unique_lock resize_lock(resize_mutex_);
  MDB_envinfo info{};
  mdb_env_info(env_, &info);
  size_t next = info.me_mapsize * 2;
  int rc = mdb_env_set_mapsize(env_, next);
  if (rc != MDB_SUCCESS) throw StoreError(std::string("grow map: ") + mdb_strerror(rc), rc);
}

void Env::sync() {
  check(mdb_env_sync(env_, 1), "sync");
}

size_t Env::map_size() const {
  MDB_envinfo info{};
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

}  // namespace dmq::store

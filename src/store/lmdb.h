#pragma once
// A small RAII layer over LMDB: one environment per data directory, named
// databases, read and write transactions, cursors, and big-endian integer keys
// (so LMDB's bytewise order is numeric order).
//
// Threading: any thread may run read() or write(); write transactions are
// serialized (LMDB allows one writer). The map grows automatically: a write that
// fills it is rolled back, the map is doubled, and the write function runs
// again, so write functions must be idempotent with respect to state outside
// the transaction. Errors are reported as StoreError with LMDB's message.

#include <lmdb.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dmq::store {

class StoreError : public std::runtime_error {
 public:
  StoreError(const std::string& what, int lmdb_code);
  int lmdb_code() const { return lmdb_code_; }

 private:
  int lmdb_code_;
};

// 8-byte big-endian encoding of an unsigned integer key.
std::string be64_key(uint64_t value);
uint64_t decode_be64(std::string_view bytes);  // requires bytes.size() == 8

using Dbi = MDB_dbi;

class Cursor {
 public:
  Cursor(MDB_txn* txn, Dbi dbi);
  ~Cursor();
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  bool first();
  bool last();
  bool next();
  bool prev();
  bool seek(std::string_view key);  // first entry with key >= `key`
  std::string_view key() const { return key_; }
  std::string_view value() const { return value_; }

 private:
  bool move(MDB_cursor_op op, std::string_view seek_key = {});
  MDB_cursor* cursor_ = nullptr;
  std::string_view key_;
  std::string_view value_;
};

class ReadTxn {
 public:
  // The returned view is valid until the transaction ends.
  std::optional<std::string_view> get(Dbi dbi, std::string_view key) const;
  Cursor cursor(Dbi dbi) const { return Cursor(txn_, dbi); }
  uint64_t entries(Dbi dbi) const;

 protected:
  explicit ReadTxn(MDB_txn* txn) : txn_(txn) {}
  MDB_txn* txn_;
  friend class Env;
};

class WriteTxn : public ReadTxn {
 public:
  void put(Dbi dbi, std::string_view key, std::string_view value);
  bool del(Dbi dbi, std::string_view key);  // false if the key was absent
  void clear(Dbi dbi);

 private:
  explicit WriteTxn(MDB_txn* txn) : ReadTxn(txn) {}
  friend class Env;
};

class Env {
 public:
  struct Options {
    std::string path;  // a directory; created if missing
    size_t initial_map_bytes = size_t{64} << 20;
    unsigned max_dbs = 64;
    // false trades durability for speed (MDB_NOSYNC); sync() still flushes.
    bool sync_on_commit = true;
  };

  // Throws StoreError naming the path and the cause (not writable, not an
  // LMDB file, version mismatch, ...).
  static std::unique_ptr<Env> open(const Options& options);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  // Opens (creating if missing) a named database.
  Dbi open_db(const std::string& name);

  void read(const std::function<void(const ReadTxn&)>& fn);
  // Commits when fn returns; an exception from fn aborts and propagates.
  void write(const std::function<void(WriteTxn&)>& fn);
  // A commit that a crash may undo (one sync instead of two: LMDB's
  // MDB_NOMETASYNC, integrity kept). Only for writes that can be redone
  // from durable state, e.g. applies replayed from a durable log.
  void write_undoable(const std::function<void(WriteTxn&)>& fn);
  // Forces a flush to disk (needed only with sync_on_commit = false).
  void sync();

  size_t map_size() const;
  const std::string& path() const { return path_; }

 private:
  Env(MDB_env* env, std::string path);
  // False when the map filled up; the transaction was rolled back.
  bool try_write(const std::function<void(WriteTxn&)>& fn);
  void grow_map();

  MDB_env* env_;
  std::string path_;
  std::mutex writer_mutex_;
  // Readers and writers hold it shared; growing the map holds it exclusively,
  // since LMDB forbids resizing while this process has transactions open.
  std::shared_mutex resize_mutex_;
};

}  // namespace dmq::store

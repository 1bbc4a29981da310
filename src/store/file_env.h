#pragma once
// The file-system seam under the partition log (LevelDB's Env, reduced to what
// segment files need). Three implementations:
//   - posix_file_env(): the real one (pwrite/pread/fdatasync, one fd per File);
//   - MemFileEnv: in memory, for fast tests;
//   - FaultFileEnv: wraps another env, remembers what has been made durable
//     (File::sync for contents, FileEnv::sync_dir for names) and on power_off()
//     throws away everything else; it can also inject fsync failures and short
//     writes. It is how tests "power off" a node.
//
// Paths are plain strings with '/' separators. Errors are values (IoStatus);
// nothing here throws or asserts on what it finds on disk.
//
// Threads: a FileEnv may be used from any thread. A File's write_at/read_at/
// sync/truncate may run concurrently (like pwrite/pread/fdatasync on one fd);
// writes to overlapping ranges from two threads at once are the caller's bug.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dmq::store {

enum class IoCode { kOk = 0, kNotFound, kIoError, kInvalid, kPoweredOff };

struct IoStatus {
  IoCode code = IoCode::kOk;
  std::string message;  // names the path and the cause
  bool ok() const { return code == IoCode::kOk; }
  static IoStatus success() { return {}; }
  static IoStatus error(IoCode code, std::string message) { return {code, std::move(message)}; }
};

class File {
 public:
  virtual ~File() = default;
  // Writes all of `data` at `position` (extending the file if needed). A short
  // write is reported as an error; how much landed is then unspecified.
  virtual IoStatus write_at(uint64_t position, std::string_view data) = 0;
  // Reads up to out.size() bytes at `position`; *bytes_read < out.size() only
  // at end of file.
  virtual IoStatus read_at(uint64_t position, std::span<char> out, size_t* bytes_read) const = 0;
  // Makes the contents durable (fdatasync).
  virtual IoStatus sync() = 0;
  virtual IoStatus truncate(uint64_t size) = 0;
  virtual IoStatus size(uint64_t* out) const = 0;
  // The OS descriptor for sendfile, or -1 when the file is not a real file.
  virtual int fd() const { return -1; }

  IoStatus append(std::string_view data);  // write_at(size())
};

class FileEnv {
 public:
  virtual ~FileEnv() = default;
  // Opens for read and write, creating the file when `create` is true.
  // kNotFound when it is missing and `create` is false.
  virtual IoStatus open(const std::string& path, bool create, std::unique_ptr<File>* out) = 0;
  virtual IoStatus remove(const std::string& path) = 0;
  // Atomically replaces `to` if it exists (rename(2)).
  virtual IoStatus rename(const std::string& from, const std::string& to) = 0;
  // Names (not paths) of the entries of `dir`, in no particular order.
  virtual IoStatus list(const std::string& dir, std::vector<std::string>* names) = 0;
  // mkdir -p; not durable until sync_dir of the parent.
  virtual IoStatus create_dirs(const std::string& dir) = 0;
  // Removes an empty directory.
  virtual IoStatus remove_dir(const std::string& dir) = 0;
  // Makes creations, renames and removals of entries of `dir` durable.
  virtual IoStatus sync_dir(const std::string& dir) = 0;
  virtual bool exists(const std::string& path) = 0;
};

// The process-wide POSIX env (stateless, never destroyed).
FileEnv& posix_file_env();

// In-memory files and directories. Open File handles share contents with the
// path they were opened from (like an inode); remove() unlinks the name only.
class MemFileEnv : public FileEnv {
 public:
  MemFileEnv();
  ~MemFileEnv() override;
  IoStatus open(const std::string& path, bool create, std::unique_ptr<File>* out) override;
  IoStatus remove(const std::string& path) override;
  IoStatus rename(const std::string& from, const std::string& to) override;
  IoStatus list(const std::string& dir, std::vector<std::string>* names) override;
  IoStatus create_dirs(const std::string& dir) override;
  IoStatus remove_dir(const std::string& dir) override;
  IoStatus sync_dir(const std::string& dir) override { return IoStatus::success(); }
  bool exists(const std::string& path) override;

  struct Node;  // shared file contents

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Node>> files_;
  std::set<std::string> dirs_;
};

// Wraps `base` (which must outlive it and must be used only through this env
// while it exists). Tracks, per file, the contents as of its last sync() and the
// writes since; per directory, the names as of its last sync_dir(). A file that
// exists in `base` before it is first touched here counts as durable.
class FaultFileEnv : public FileEnv {
 public:
  explicit FaultFileEnv(FileEnv& base);
  ~FaultFileEnv() override;

  IoStatus open(const std::string& path, bool create, std::unique_ptr<File>* out) override;
  IoStatus remove(const std::string& path) override;
  IoStatus rename(const std::string& from, const std::string& to) override;
  IoStatus list(const std::string& dir, std::vector<std::string>* names) override;
  IoStatus create_dirs(const std::string& dir) override;
  IoStatus remove_dir(const std::string& dir) override;
  IoStatus sync_dir(const std::string& dir) override;
  bool exists(const std::string& path) override;

  // Simulates a power loss: every File opened before now fails with
  // kPoweredOff from then on, names not made durable by sync_dir disappear (and
  // removed/renamed names come back), and each file's contents return to its
  // last sync. `torn_bytes` keeps that many bytes of each file's unsynced
  // writes (oldest first, the last one cut mid-way): a torn write. Afterwards
  // the env is usable again, as after a reboot.
  void power_off(uint64_t torn_bytes = 0);

  // Fault injection; `path_contains` selects files by substring ("" = all).
  // The next `count` syncs of matching files fail with kIoError and change
  // nothing durable.
  void fail_syncs(std::string path_contains, int count);
  // The next write to a matching file writes only `bytes_written` bytes of its
  // data, then reports kIoError.
  void short_write_next(std::string path_contains, size_t bytes_written);
  // Called at the start of every File::sync (outside the env's lock); tests use
  // it to hold a sync in flight.
  void set_sync_hook(std::function<void(const std::string& path)> hook);

  uint64_t sync_count() const;  // successful File::sync calls

  struct State;  // per file: durable contents and pending writes

 private:
  friend class FaultFile;
  std::shared_ptr<State> adopt_locked(const std::string& path);
  bool take_sync_failure_locked(const std::string& path);
  bool take_short_write_locked(const std::string& path, size_t* bytes);

  FileEnv& base_;
  mutable std::mutex mu_;
  uint64_t generation_ = 0;  // bumped by power_off; stale Files refuse to work
  std::map<std::string, std::shared_ptr<State>> live_;     // names now
  std::map<std::string, std::shared_ptr<State>> durable_;  // names after a power loss
  std::set<std::string> durable_known_;  // paths whose durable entry (or absence) is known
  struct Injection {
    std::string path_contains;
    int64_t value;
  };
  std::vector<Injection> sync_failures_;
  std::vector<Injection> short_writes_;
  std::function<void(const std::string&)> sync_hook_;
  uint64_t sync_count_ = 0;
};

}  // namespace dmq::store

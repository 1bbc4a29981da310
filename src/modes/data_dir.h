#pragma once
// The node's data directory: created if missing, locked against a second
// process (flock on <data-dir>/LOCK, released when the process dies).

#include <string>

namespace dmq::modes {

class DataDirLock {
 public:
  // On failure returns false with a one-line reason in `error`.
  bool acquire(const std::string& data_dir, std::string* error);
  ~DataDirLock();

 private:
  int fd_ = -1;
};

}  // namespace dmq::modes

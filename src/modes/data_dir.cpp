#include "modes/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace dmq::modes {

bool DataDirLock::acquire(const std::string& data_dir, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    *error = "data dir " + data_dir + " cannot be created: " + ec.message();
    return false;
  }
  std::string lock_path = data_dir + "/LOCK";
  fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    *error = "data dir " + data_dir + " is not writable: " + std::strerror(errno);
    return false;
  }
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    *error = "data dir " + data_dir + " is in use by another dmq process";
    return false;
  }
  return true;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace dmq::modes

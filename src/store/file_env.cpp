// The POSIX FileEnv: one fd per File, pwrite/pread/fdatasync.
#include "store/file_env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dmq::store {

IoStatus File::append(std::string_view data) {
  uint64_t end = 0;
  if (IoStatus s = size(&end); !s.ok()) return s;
  return write_at(end, data);
}

namespace {

IoStatus errno_status(const std::string& what, const std::string& path, int err) {
  return IoStatus::error(err == ENOENT ? IoCode::kNotFound : IoCode::kIoError,
                         what + " " + path + ": " + std::strerror(err));
}

class PosixFile : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { ::close(fd_); }

  IoStatus write_at(uint64_t position, std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(position));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_status("pwrite", path_, errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
      position += static_cast<uint64_t>(n);
    }
    return IoStatus::success();
  }

  IoStatus read_at(uint64_t position, std::span<char> out, size_t* bytes_read) const override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n =
          ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(position + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_status("pread", path_, errno);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    *bytes_read = done;
    return IoStatus::success();
  }

  IoStatus sync() override {
    // A failed fdatasync may have dropped the dirty pages (fsyncgate): the
    // caller must treat the file as lost, never retry and carry on.
    if (::fdatasync(fd_) != 0) return errno_status("fdatasync", path_, errno);
    return IoStatus::success();
  }

  IoStatus truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return errno_status("ftruncate", path_, errno);
    }
    return IoStatus::success();
  }

  IoStatus size(uint64_t* out) const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return errno_status("fstat", path_, errno);
    *out = static_cast<uint64_t>(st.st_size);
    return IoStatus::success();
  }

  int fd() const override { return fd_; }

 private:
  int fd_;
  std::string path_;
};

class PosixFileEnv : public FileEnv {
 public:
  IoStatus open(const std::string& path, bool create, std::unique_ptr<File>* out) override {
    int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return errno_status("open", path, errno);
    *out = std::make_unique<PosixFile>(fd, path);
    return IoStatus::success();
  }

  IoStatus remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return errno_status("unlink", path, errno);
    return IoStatus::success();
  }

  IoStatus rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return errno_status("rename", from, errno);
    return IoStatus::success();
  }

  IoStatus list(const std::string& dir, std::vector<std::string>* names) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return errno_status("opendir", dir, errno);
    names->clear();
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names->push_back(std::move(name));
    }
    ::closedir(d);
    return IoStatus::success();
  }

  IoStatus create_dirs(const std::string& dir) override {
    for (size_t i = 1; i <= dir.size(); ++i) {
      if (i != dir.size() && dir[i] != '/') continue;
      std::string prefix = dir.substr(0, i);
      if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
        return errno_status("mkdir", prefix, errno);
      }
    }
    return IoStatus::success();
  }

  IoStatus remove_dir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0) return errno_status("rmdir", dir, errno);
    return IoStatus::success();
  }

  IoStatus sync_dir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_status("open", dir, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return errno_status("fsync", dir, err);
    return IoStatus::success();
  }

  bool exists(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }
};

}  // namespace

FileEnv& posix_file_env() {
  static PosixFileEnv* env = new PosixFileEnv();  // never destroyed: usable at exit
  return *env;
}

}  // namespace dmq::store

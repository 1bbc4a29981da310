#include "security/cluster_secret.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dmq::security {
namespace {

Error file_error(const std::string& path, const std::string& why) {
  return make_error(ErrorCode::kFileError, "cluster.secret.file " + path + ": " + why);
}

}  // namespace

Result<std::string> load_cluster_secret(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return file_error(path, std::strerror(errno));
  struct stat st {};
  std::string data;
  std::string problem;
  if (::fstat(fd, &st) != 0) {
    problem = std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    problem = "not a regular file";
  } else if ((st.st_mode & 077) != 0) {
    problem = "accessible by group or others (chmod 600)";
  } else if (st.st_size > static_cast<off_t>(kClusterSecretMaxBytes)) {
    problem = "larger than 4096 bytes";
  } else {
    data.resize(kClusterSecretMaxBytes + 1);
    ssize_t n = ::read(fd, data.data(), data.size());
    if (n < 0) problem = std::strerror(errno);
    data.resize(n < 0 ? 0 : static_cast<size_t>(n));
  }
  ::close(fd);
  if (!problem.empty()) return file_error(path, problem);
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!data.empty() && is_space(data.back())) data.pop_back();
  if (data.size() > kClusterSecretMaxBytes) return file_error(path, "larger than 4096 bytes");
  if (data.size() < kClusterSecretMinBytes) {
    return file_error(path, "secret is empty or shorter than 16 bytes");
  }
  return data;
}

}  // namespace dmq::security

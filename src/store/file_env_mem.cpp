// MemFileEnv: files are shared strings keyed by path.
#include <algorithm>
#include <cstring>

#include "store/file_env.h"

namespace dmq::store {

struct MemFileEnv::Node {
  std::mutex mu;
  std::string data;
};

namespace {

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

class MemFile : public File {
 public:
  explicit MemFile(std::shared_ptr<MemFileEnv::Node> node) : node_(std::move(node)) {}

  IoStatus write_at(uint64_t position, std::string_view data) override {
    std::lock_guard lock(node_->mu);
    std::string& d = node_->data;
    if (d.size() < position + data.size()) d.resize(position + data.size());
    std::memcpy(d.data() + position, data.data(), data.size());
    return IoStatus::success();
  }

  IoStatus read_at(uint64_t position, std::span<char> out, size_t* bytes_read) const override {
    std::lock_guard lock(node_->mu);
    const std::string& d = node_->data;
    size_t n = position >= d.size() ? 0 : std::min<uint64_t>(out.size(), d.size() - position);
    if (n > 0) std::memcpy(out.data(), d.data() + position, n);
    *bytes_read = n;
    return IoStatus::success();
  }

  IoStatus sync() override { return IoStatus::success(); }

  IoStatus truncate(uint64_t size) override {
    std::lock_guard lock(node_->mu);
    node_->data.resize(size);
    return IoStatus::success();
  }

  IoStatus size(uint64_t* out) const override {
    std::lock_guard lock(node_->mu);
    *out = node_->data.size();
    return IoStatus::success();
  }

 private:
  std::shared_ptr<MemFileEnv::Node> node_;
};

}  // namespace

MemFileEnv::MemFileEnv() = default;
MemFileEnv::~MemFileEnv() = default;

IoStatus MemFileEnv::open(const std::string& path, bool create, std::unique_ptr<File>* out) {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) {
    if (!create) return IoStatus::error(IoCode::kNotFound, "open " + path + ": not found");
    if (!dirs_.count(parent_of(path))) {
      return IoStatus::error(IoCode::kNotFound, "open " + path + ": no such directory");
    }
    it = files_.emplace(path, std::make_shared<Node>()).first;
  }
  *out = std::make_unique<MemFile>(it->second);
  return IoStatus::success();
}

IoStatus MemFileEnv::remove(const std::string& path) {
  std::lock_guard lock(mu_);
  if (files_.erase(path) == 0) return IoStatus::error(IoCode::kNotFound, "remove " + path);
  return IoStatus::success();
}

IoStatus MemFileEnv::rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  auto it = files_.find(from);
  if (it == files_.end()) return IoStatus::error(IoCode::kNotFound, "rename " + from);
  auto node = it->second;
  files_.erase(it);
  files_[to] = std::move(node);
  return IoStatus::success();
}

IoStatus MemFileEnv::list(const std::string& dir, std::vector<std::string>* names) {
  std::lock_guard lock(mu_);
  if (!dirs_.count(dir)) return IoStatus::error(IoCode::kNotFound, "list " + dir);
  names->clear();
  for (const auto& [path, node] : files_) {
    if (parent_of(path) == dir) names->push_back(path.substr(dir.size() + 1));
  }
  for (const auto& d : dirs_) {
    if (!d.empty() && d != dir && parent_of(d) == dir) names->push_back(d.substr(dir.size() + 1));
  }
  return IoStatus::success();
}

IoStatus MemFileEnv::create_dirs(const std::string& dir) {
  std::lock_guard lock(mu_);
  for (std::string d = dir; !d.empty(); d = parent_of(d)) dirs_.insert(d);
  dirs_.insert("");
  return IoStatus::success();
}

IoStatus MemFileEnv::remove_dir(const std::string& dir) {
  std::lock_guard lock(mu_);
  if (!dirs_.count(dir)) return IoStatus::error(IoCode::kNotFound, "rmdir " + dir);
  for (const auto& [path, node] : files_) {
    if (parent_of(path) == dir)
      return IoStatus::error(IoCode::kInvalid, "rmdir " + dir + ": not empty");
  }
  for (const auto& d : dirs_) {
    if (d != dir && parent_of(d) == dir) {
      return IoStatus::error(IoCode::kInvalid, "rmdir " + dir + ": not empty");
    }
  }
  dirs_.erase(dir);
  return IoStatus::success();
}

bool MemFileEnv::exists(const std::string& path) {
  std::lock_guard lock(mu_);
  return files_.count(path) > 0 || dirs_.count(path) > 0;
}

}  // namespace dmq::store

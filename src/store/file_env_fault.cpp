// FaultFileEnv: a FileEnv that knows what a power loss would keep.
//
// Model (ext4 data=ordered, roughly, and what POSIX promises): file contents
// are durable up to the last successful sync of that file; the existence of a
// name is durable once its directory has been synced after the name was
// created, renamed or removed. Anything else may be lost, and a write in
// flight may be torn at any byte.
#include <algorithm>
#include <cstring>

#include "store/file_env.h"

namespace dmq::store {

struct FaultFileEnv::State {
  struct Op {
    bool truncate = false;
    uint64_t position = 0;  // write position, or new size for a truncate
    std::string data;
  };
  std::string durable;      // contents as of the last successful sync
  std::vector<Op> pending;  // writes and truncates since, in order
};

namespace {

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

void apply(std::string& contents, const FaultFileEnv::State::Op& op, size_t max_bytes) {
  if (op.truncate) {
    contents.resize(op.position);
    return;
  }
  size_t n = std::min(max_bytes, op.data.size());
  if (contents.size() < op.position + n) contents.resize(op.position + n);
  std::memcpy(contents.data() + op.position, op.data.data(), n);
}

IoStatus powered_off() {
  return IoStatus::error(IoCode::kPoweredOff, "file lost at power off");
}

}  // namespace

class FaultFile : public File {
 public:
  FaultFile(FaultFileEnv& env, std::string path, std::shared_ptr<FaultFileEnv::State> state,
            std::unique_ptr<File> base, uint64_t generation)
      : env_(env),
        path_(std::move(path)),
        state_(std::move(state)),
        base_(std::move(base)),
        generation_(generation) {}

  IoStatus write_at(uint64_t position, std::string_view data) override {
    size_t allowed = data.size();
    bool short_write = false;
    {
      std::lock_guard lock(env_.mu_);
      if (generation_ != env_.generation_) return powered_off();
      short_write = env_.take_short_write_locked(path_, &allowed);
      allowed = std::min(allowed, data.size());
      state_->pending.push_back({false, position, std::string(data.substr(0, allowed))});
    }
    if (IoStatus s = base_->write_at(position, data.substr(0, allowed)); !s.ok()) return s;
    if (short_write) return IoStatus::error(IoCode::kIoError, "injected short write " + path_);
    return IoStatus::success();
  }

  IoStatus read_at(uint64_t position, std::span<char> out, size_t* bytes_read) const override {
    {
      std::lock_guard lock(env_.mu_);
      if (generation_ != env_.generation_) return powered_off();
    }
    return base_->read_at(position, out, bytes_read);
  }

  IoStatus sync() override {
    std::function<void(const std::string&)> hook;
    {
      std::lock_guard lock(env_.mu_);
      hook = env_.sync_hook_;
    }
    if (hook) hook(path_);
    std::lock_guard lock(env_.mu_);
    if (generation_ != env_.generation_) return powered_off();
    if (env_.take_sync_failure_locked(path_)) {
      // Like Linux after a writeback error: the pending writes are neither
      // durable nor retried.
      return IoStatus::error(IoCode::kIoError, "injected fsync failure " + path_);
    }
    if (IoStatus s = base_->sync(); !s.ok()) return s;
    for (const auto& op : state_->pending) apply(state_->durable, op, op.data.size());
    state_->pending.clear();
    ++env_.sync_count_;
    return IoStatus::success();
  }

  IoStatus truncate(uint64_t size) override {
    {
      std::lock_guard lock(env_.mu_);
      if (generation_ != env_.generation_) return powered_off();
      state_->pending.push_back({true, size, {}});
    }
    return base_->truncate(size);
  }

  IoStatus size(uint64_t* out) const override {
    {
      std::lock_guard lock(env_.mu_);
      if (generation_ != env_.generation_) return powered_off();
    }
    return base_->size(out);
  }

  int fd() const override { return base_->fd(); }

 private:
  FaultFileEnv& env_;
  std::string path_;
  std::shared_ptr<FaultFileEnv::State> state_;
  std::unique_ptr<File> base_;
  uint64_t generation_;
};

FaultFileEnv::FaultFileEnv(FileEnv& base) : base_(base) {}
FaultFileEnv::~FaultFileEnv() = default;

// A file that exists in the base env before this env first sees it is taken
// as durable, contents and name.
std::shared_ptr<FaultFileEnv::State> FaultFileEnv::adopt_locked(const std::string& path) {
  if (auto it = live_.find(path); it != live_.end()) return it->second;
  if (durable_known_.count(path) || !base_.exists(path)) {
    durable_known_.insert(path);
    return nullptr;
  }
  durable_known_.insert(path);
  std::unique_ptr<File> f;
  auto state = std::make_shared<State>();
  uint64_t size = 0;
  if (!base_.open(path, false, &f).ok() || !f->size(&size).ok()) return nullptr;
  state->durable.resize(size);
  size_t n = 0;
  if (!f->read_at(0, state->durable, &n).ok()) return nullptr;
  state->durable.resize(n);
  live_[path] = state;
  durable_[path] = state;
  return state;
}

IoStatus FaultFileEnv::open(const std::string& path, bool create, std::unique_ptr<File>* out) {
  std::lock_guard lock(mu_);
  std::shared_ptr<State> state = adopt_locked(path);
  std::unique_ptr<File> base_file;
  if (IoStatus s = base_.open(path, create, &base_file); !s.ok()) return s;
  if (!state) {
    state = std::make_shared<State>();
    live_[path] = state;
  }
  *out = std::make_unique<FaultFile>(*this, path, state, std::move(base_file), generation_);
  return IoStatus::success();
}

IoStatus FaultFileEnv::remove(const std::string& path) {
  std::lock_guard lock(mu_);
  adopt_locked(path);
  if (IoStatus s = base_.remove(path); !s.ok()) return s;
  live_.erase(path);
  return IoStatus::success();
}

IoStatus FaultFileEnv::rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  adopt_locked(from);
  adopt_locked(to);
  if (IoStatus s = base_.rename(from, to); !s.ok()) return s;
  auto it = live_.find(from);
  if (it != live_.end()) {
    live_[to] = it->second;
    live_.erase(from);
  }
  return IoStatus::success();
}

IoStatus FaultFileEnv::list(const std::string& dir, std::vector<std::string>* names) {
  std::lock_guard lock(mu_);
  IoStatus s = base_.list(dir, names);
  if (s.ok()) {
    for (const auto& name : *names) adopt_locked(dir + "/" + name);
  }
  return s;
}

IoStatus FaultFileEnv::create_dirs(const std::string& dir) {
  std::lock_guard lock(mu_);
  return base_.create_dirs(dir);  // directories themselves are modelled as durable
}

IoStatus FaultFileEnv::remove_dir(const std::string& dir) {
  std::lock_guard lock(mu_);
  return base_.remove_dir(dir);  // like create_dirs: directories are modelled as durable
}

IoStatus FaultFileEnv::sync_dir(const std::string& dir) {
  std::lock_guard lock(mu_);
  for (auto it = durable_.begin(); it != durable_.end();) {
    bool gone = parent_of(it->first) == dir && !live_.count(it->first);
    it = gone ? durable_.erase(it) : std::next(it);
  }
  for (const auto& [path, state] : live_) {
    if (parent_of(path) == dir) durable_[path] = state;
  }
  return base_.sync_dir(dir);
}

bool FaultFileEnv::exists(const std::string& path) {
  std::lock_guard lock(mu_);
  return base_.exists(path);
}

void FaultFileEnv::power_off(uint64_t torn_bytes) {
  std::lock_guard lock(mu_);
  ++generation_;
  for (const auto& [path, state] : live_) {
    if (!durable_.count(path)) base_.remove(path);
  }
  for (const auto& [path, state] : durable_) {
    std::string contents = state->durable;
    uint64_t budget = torn_bytes;
    for (const auto& op : state->pending) {
      if (!op.truncate && budget == 0) break;
      size_t n = std::min<uint64_t>(budget, op.data.size());
      apply(contents, op, n);
      budget -= n;
    }
    std::unique_ptr<File> f;
    if (base_.open(path, true, &f).ok()) {
      f->truncate(0);
      f->write_at(0, contents);
    }
    state->durable = std::move(contents);
    state->pending.clear();
  }
  live_ = durable_;
}

void FaultFileEnv::fail_syncs(std::string path_contains, int count) {
  std::lock_guard lock(mu_);
  sync_failures_.push_back({std::move(path_contains), count});
}

void FaultFileEnv::short_write_next(std::string path_contains, size_t bytes_written) {
  std::lock_guard lock(mu_);
  short_writes_.push_back({std::move(path_contains), static_cast<int64_t>(bytes_written)});
}

void FaultFileEnv::set_sync_hook(std::function<void(const std::string& path)> hook) {
  std::lock_guard lock(mu_);
  sync_hook_ = std::move(hook);
}

uint64_t FaultFileEnv::sync_count() const {
  std::lock_guard lock(mu_);
  return sync_count_;
}

bool FaultFileEnv::take_sync_failure_locked(const std::string& path) {
  for (auto& f : sync_failures_) {
    if (f.value > 0 && path.find(f.path_contains) != std::string::npos) {
      --f.value;
      return true;
    }
  }
  return false;
}

bool FaultFileEnv::take_short_write_locked(const std::string& path, size_t* bytes) {
  for (auto it = short_writes_.begin(); it != short_writes_.end(); ++it) {
    if (path.find(it->path_contains) != std::string::npos) {
      *bytes = static_cast<size_t>(it->value);
      short_writes_.erase(it);
      return true;
    }
  }
  return false;
}

}  // namespace dmq::store

#include "client/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <vector>

#include "client/error.h"

extern char** environ;

namespace dmq::client {
namespace {

constexpr size_t kStderrTail = 1024;

struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw ClientError(std::string("pipe: ") + std::strerror(errno));
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  void close_read() {
    if (read >= 0) ::close(read);
    read = -1;
  }
  void close_write() {
    if (write >= 0) ::close(write);
    write = -1;
  }
};

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string_view::npos && extra.count(std::string(entry.substr(0, eq)))) continue;
    out.emplace_back(entry);
  }
  for (const auto& [k, v] : extra) out.push_back(k + "=" + v);
  return out;
}

// Feeds `input` to the child's stdin while draining its stderr, so neither
// side blocks on a full pipe.
void exchange(Pipe& in, Pipe& err, std::string_view input, std::string& tail) {
  size_t written = 0;
  if (input.empty()) in.close_write();
  char buf[4096];
  while (err.read >= 0) {
    pollfd fds[2] = {{err.read, POLLIN, 0}, {in.write, POLLOUT, 0}};
    const nfds_t n = in.write >= 0 ? 2 : 1;
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (n == 2 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = ::write(in.write, input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 || written == input.size()) in.close_write();  // EPIPE: it stopped reading
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::read(err.read, buf, sizeof buf);
      if (r <= 0) {
        err.close_read();
      } else {
        tail.append(buf, static_cast<size_t>(r));
        if (tail.size() > kStderrTail) tail.erase(0, tail.size() - kStderrTail);
      }
    }
  }
  in.close_write();
}

}  // namespace

CommandResult run_command(const std::string& command, std::string_view input,
                          const std::map<std::string, std::string>& env) {
  Pipe in, err;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write, STDERR_FILENO);
  auto environment = merged_environment(env);
  std::vector<char*> envp;
  for (auto& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string shell = "/bin/sh", flag = "-c", script = command;
  char* argv[] = {shell.data(), flag.data(), script.data(), nullptr};
  // The consumer ignores SIGPIPE (a command may stop reading its input); the
  // command gets the default back, as a shell would give it.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw ClientError(std::string("cannot run /bin/sh: ") + std::strerror(rc));
  in.close_read();
  err.close_write();
  CommandResult result;
  exchange(in, err, input, result.stderr_tail);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace dmq::client

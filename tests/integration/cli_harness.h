// Runs the real `sculpt` binary and captures its exit code and combined output.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

namespace sculpt::testing {

// The sanitizer build (the debug preset) runs every integration test too. Only the seed CNN's
// five epochs on all of Fashion-MNIST would take over ten minutes there (about 5x the release
// time): that test trains on a slice under the sanitizers and checks a lower bar, and the
// release build checks the full claim.
#ifdef SCULPT_SANITIZED
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

struct CliResult {
  int code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `binary args` through the shell.
inline CliResult run_cli_binary(const std::string& binary, const std::string& args) {
  const std::string cmd = binary + " " + args + " 2>&1";
  CliResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

inline CliResult run_cli(const std::string& args) { return run_cli_binary(SCULPT_CLI, args); }

// A fresh scratch directory per test, removed at the end.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() /
            ("sculpt-it-" + tag + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string path() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name), std::ios::binary) << text;
    return file(name);
  }

 private:
  std::filesystem::path path_;
};

inline std::string recipe_path(const std::string& name) {
  // Appended piece by piece: GCC 12 warns falsely (-Wstringop-overflow) about `a + "/x/" + b`.
  std::string path = SCULPT_SOURCE_DIR;
  path += "/recipes/";
  path += name;
  return path;
}

inline const char* kFashionDir = "/usr/share/datasets/fashion-mnist";

inline bool have_fashion() {
  return std::filesystem::exists(std::string(kFashionDir) + "/train-images-idx3-ubyte.gz");
}

// Debian's fortunes (English text for the character models), which scripts/deps.sh installs.
inline const char* kFortunesDir = "/usr/share/games/fortunes";

inline bool have_fortunes() {
  return std::filesystem::exists(std::string(kFortunesDir) + "/fortunes");
}

// Overrides for a quick Fashion-MNIST run: 5,000 training and 2,000 test images, no progress bar.
inline const std::string kSmallFashion =
    " --set data.limit_train=5000 --set data.limit_test=2000 --set output.progress=none";

// The first "<label> NN.NN%" in `text`, as a percentage (-1 when absent).
inline double percent_after(const std::string& text, const std::string& label) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(label + "\\s*([0-9.]+)%"))) return -1.0;
  return std::stod(m[1]);
}

// Every record of a run directory's metrics.jsonl, in order.
inline std::vector<nlohmann::json> read_metrics(const std::string& run) {
  std::vector<nlohmann::json> out;
  std::ifstream f(run + "/metrics.jsonl");
  std::string line;
  while (std::getline(f, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace sculpt::testing

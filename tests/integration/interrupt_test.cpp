// `sculpt train` stopped from outside: SIGTERM and SIGINT finish the step, write a checkpoint,
// say how to resume and exit 143 / 130; SIGKILL at random moments (20 times and more, in a
// bounded time) loses nothing either. Each time the run resumes, and its final checkpoint and
// metrics equal those of a run that never stopped, bit for bit.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/cli_harness.h"
#include "io/checkpoint.h"

extern char** environ;

namespace sculpt::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A sculpt process running in the background, its output going to a file.
class Background {
 public:
  Background(const std::string& args, const std::string& log) {
    std::vector<std::string> words{SCULPT_CLI};
    std::istringstream in(args);
    for (std::string w; in >> w;) words.push_back(w);
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    ok_ = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) == 0;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Background() {
    if (pid_ > 0 && !done_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  bool started() const { return ok_; }
  void signal(int sig) const { ::kill(pid_, sig); }
  // Exit code, or 128 + signal.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    done_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // Whether it ended by itself within `d` (then `code` holds how).
  bool ended_within(std::chrono::milliseconds d, int& code) {
    const auto until = Clock::now() + d;
    int status = 0;
    while (Clock::now() < until) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        done_ = true;
        code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
  bool ok_ = false, done_ = false;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Lines of metrics.jsonl that two runs must agree on: step and epoch records without times.
std::vector<nlohmann::json> comparable_metrics(const std::string& run) {
  std::vector<nlohmann::json> out;
  for (const nlohmann::json& j : read_metrics(run)) {
    if (j["event"] != "step" && j["event"] != "epoch") continue;
    nlohmann::json k = j;
    k.erase("time_s");
    k.erase("samples_per_s");
    out.push_back(k);
  }
  return out;
}

void expect_same_run(const std::string& a, const std::string& b) {
  const io::Checkpoint x = io::load_checkpoint(a + "/checkpoints/last.safetensors");
  const io::Checkpoint y = io::load_checkpoint(b + "/checkpoints/last.safetensors");
  ASSERT_EQ(x.tensors.size(), y.tensors.size());
  for (const auto& [name, t] : x.tensors) {
    ASSERT_NE(y.find(name), nullptr) << name;
    EXPECT_EQ(0, std::memcmp(t.data.data(), y.find(name)->data.data(), t.data.size() * 4))
        << name << " differs";
  }
  for (const char* key : {"epoch", "step", "rng.data", "dropout_key"})
    EXPECT_EQ(x.metadata.at(key), y.metadata.at(key)) << key;
  // The first record that differs, rather than both files in full.
  const std::vector<nlohmann::json> ma = comparable_metrics(a), mb = comparable_metrics(b);
  for (size_t i = 0; i < std::min(ma.size(), mb.size()); ++i)
    ASSERT_EQ(ma[i], mb[i]) << "metrics record " << i << " differs";
  EXPECT_EQ(ma.size(), mb.size()) << "metrics records";
}

// The synthetic binary data with the MLP, long enough to be stopped mid-run: 4 epochs of 329
// steps, a checkpoint every 7 steps; one thread so that the bits cannot depend on scheduling.
const std::string kStoppableRun =
    " train -q --recipe " + recipe_path("binary.toml") +
    " --set data.samples=30000 --set model.name=mlp --set train.epochs=4"
    " --set train.batch_size=64 --set train.threads=1 --set output.checkpoint_every=7"
    " --set output.keep=2";

// The uninterrupted run of `args`; `seconds` gets its wall time.
std::string straight_run(const TempDir& dir, const std::string& args = kStoppableRun,
                         double* seconds = nullptr) {
  const std::string run = dir.file("straight");
  const auto t0 = Clock::now();
  const CliResult r = run_cli(args + " --out " + run);
  if (seconds) *seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_EQ(r.code, 0) << r.output;
  return run;
}

// Waits until the run has logged at least `steps` step records (or 20 s passed).
void wait_for_steps(const std::string& run, size_t lines) {
  const auto until = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < until) {
    const std::string m = slurp(run + "/metrics.jsonl");
    if (static_cast<size_t>(std::count(m.begin(), m.end(), '\n')) >= lines) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void stop_and_resume(int sig, int expected_code) {
  TempDir dir(sig == SIGINT ? "sigint" : "sigterm");
  const std::string straight = straight_run(dir), run = dir.file("stopped");
  {
    Background b(kStoppableRun + " --out " + run, dir.file("log"));
    ASSERT_TRUE(b.started());
    wait_for_steps(run, 30);
    b.signal(sig);
    EXPECT_EQ(b.wait(), expected_code) << slurp(dir.file("log"));
  }
  const std::string log = slurp(dir.file("log"));
  EXPECT_NE(log.find("checkpoint saved. Continue with: "), std::string::npos) << log;
  EXPECT_NE(log.find("train --resume " + run), std::string::npos) << log;
  const io::Checkpoint ck = io::load_checkpoint(run + "/checkpoints/last.safetensors");
  EXPECT_GT(std::stoi(ck.metadata.at("step")), 0);
  const CliResult r = run_cli("train -q --resume " + run);
  ASSERT_EQ(r.code, 0) << r.output;
  expect_same_run(straight, run);
}

TEST(Interrupt, SigtermCheckpointsExits143AndResumesBitForBit) { stop_and_resume(SIGTERM, 143); }

TEST(Interrupt, SigintCheckpointsExits130AndResumesBitForBit) { stop_and_resume(SIGINT, 130); }

// SIGKILL at random moments: during start-up, training, checkpoint writes and evaluation. A
// kill before the first checkpoint leaves nothing to resume: the run then starts over.
TEST(Interrupt, TwentySigkillsLoseNothing) {
  TempDir dir("sigkill");
  // 20 epochs (about 4 s on a free core): most kills land in training and checkpoint writes.
  const std::string args = kStoppableRun + " --set train.epochs=20";
  double seconds = 0.0;
  const std::string straight = straight_run(dir, args, &seconds), run = dir.file("killed");
  // Each session lives 50 ms (about the start-up) plus at most 1/25 of the straight run's time,
  // so 20 of them cannot finish the run, whatever the machine's speed.
  std::mt19937 rng(2026);
  const int span = std::max(10, static_cast<int>(seconds * 1000.0 / 25.0));
  std::uniform_int_distribution<int> delay_ms(50, 50 + span);
  int kills = 0, restarts = 0;
  bool finished = false;
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (!finished && Clock::now() < deadline) {
    const bool fresh = !fs::exists(run + "/checkpoints/last.safetensors");
    if (fresh) {
      fs::remove_all(run);
      ++restarts;
    }
    Background b(fresh ? args + " --out " + run : " train -q --resume " + run, dir.file("log"));
    ASSERT_TRUE(b.started());
    int code = -1;
    // After 20 kills the run is left to finish.
    if (kills >= 20 || b.ended_within(std::chrono::milliseconds(delay_ms(rng)), code)) {
      if (code < 0) code = b.wait();
      ASSERT_EQ(code, 0) << slurp(dir.file("log"));
      finished = true;
    } else {
      b.signal(SIGKILL);
      EXPECT_EQ(b.wait(), 128 + SIGKILL);
      ++kills;
    }
  }
  ASSERT_TRUE(finished) << "not finished in time after " << kills << " kills";
  EXPECT_GE(kills, 20);
  RecordProperty("kills", kills);
  RecordProperty("restarts", restarts);
  expect_same_run(straight, run);
  // Only the newest output.keep step files remain, and no temporary file.
  int step_files = 0;
  std::string names;
  for (const auto& e : fs::directory_iterator(run + "/checkpoints")) {
    const std::string name = e.path().filename().string();
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
    step_files += name.starts_with("step-");
    names += " " + name;
  }
  EXPECT_EQ(step_files, 2) << names;
}

}  // namespace
}  // namespace sculpt::testing

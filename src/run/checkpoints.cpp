// Numbered checkpoints in a run directory: writing, rotation and choosing one to resume from.
#include "run/checkpoints.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "io/checkpoint.h"

namespace sculpt::run {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPrefix = "step-";  // then the step, zero-padded to 9 digits
constexpr const char* kSuffix = ".safetensors";

struct StepFile {
  int64_t step;
  fs::path path;
};

// step-<digits>.safetensors: the step, or -1 for any other name.
int64_t step_of(const std::string& name) {
  constexpr size_t kFixed = 5 + 12;  // "step-" and ".safetensors"
  if (name.size() <= kFixed || name.size() > kFixed + 18 || !name.starts_with(kPrefix) ||
      !name.ends_with(kSuffix))
    return -1;
  int64_t step = 0;
  for (size_t i = 5; i + 12 < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    step = step * 10 + (name[i] - '0');
  }
  return step;
}

// The step files, oldest first.
std::vector<StepFile> step_files(const fs::path& cdir) {
  std::vector<StepFile> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(cdir, ec))
    if (const int64_t step = step_of(e.path().filename().string()); step >= 0)
      out.push_back({step, e.path()});
  std::sort(out.begin(), out.end(),
            [](const StepFile& a, const StepFile& b) { return a.step < b.step; });
  return out;
}

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw IoError(fmt::format("{}: {}", what, std::strerror(err)), path,
                "check that the run directory is writable and the disk is not full");
}

// `link` names the same file as `target`, replaced atomically: a reader finds the old link or
// the new one, never none.
void relink(const fs::path& target, const fs::path& link) {
  const std::string tmp = link.string() + ".tmp";
  ::unlink(tmp.c_str());
  if (::link(target.c_str(), tmp.c_str()) != 0) fail("cannot link the checkpoint", tmp, errno);
  if (std::rename(tmp.c_str(), link.c_str()) != 0)
    fail("cannot move the checkpoint link into place", link.string(), errno);
  const int fd = ::open(link.parent_path().c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) fail("cannot open the checkpoint directory", link.parent_path().string(), errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) fail("cannot sync the checkpoint directory", link.parent_path().string(), err);
}

}  // namespace

void save_run_checkpoint(const train::Trainer& t, const std::string& dir, int64_t keep) {
  const fs::path cdir = fs::path(dir) / "checkpoints";
  const fs::path file = cdir / fmt::format("{}{:09d}{}", kPrefix, t.step(), kSuffix);
  t.save_checkpoint(file.string());
  relink(file, cdir / "last.safetensors");
  tidy_checkpoints(dir, t.step(), keep);
}

void tidy_checkpoints(const std::string& dir, int64_t step, int64_t keep) {
  const fs::path cdir = fs::path(dir) / "checkpoints";
  std::vector<fs::path> mine;  // steps up to `step`, oldest first
  std::error_code ec;
  for (const StepFile& f : step_files(cdir)) {
    if (f.step > step)
      fs::remove(f.path, ec);
    else
      mine.push_back(f.path);
  }
  for (size_t i = 0; i + static_cast<size_t>(keep) < mine.size(); ++i) fs::remove(mine[i], ec);
  for (const auto& e : fs::directory_iterator(cdir, ec)) {
    const fs::path ext = e.path().extension();
    if (ext == ".tmp" || ext == ".prev") fs::remove(e.path(), ec);
  }
}

std::vector<std::string> checkpoint_candidates(const std::string& dir) {
  const fs::path cdir = fs::path(dir) / "checkpoints";
  std::vector<std::string> out;
  const std::vector<StepFile> files = step_files(cdir);
  for (auto it = files.rbegin(); it != files.rend(); ++it) out.push_back(it->path.string());
  std::error_code ec;
  if (fs::is_regular_file(cdir / "last.safetensors", ec))
    out.push_back((cdir / "last.safetensors").string());
  return out;
}

LoadedCheckpoint newest_valid_checkpoint(const std::string& dir) {
  const std::vector<std::string> candidates = checkpoint_candidates(dir);
  SCULPT_CHECK(!candidates.empty(), IoError, "the run has no checkpoint to resume from",
               (fs::path(dir) / "checkpoints").string(),
               "it stopped before its first checkpoint (or ran with output.checkpoint = false); "
               "start it again: sculpt train --recipe " +
                   (fs::path(dir) / "recipe.toml").string());
  std::exception_ptr newest_error;
  std::vector<std::string> skipped;
  for (const std::string& path : candidates) {
    try {
      LoadedCheckpoint out{path, io::load_checkpoint(path)};
      std::fflush(stdout);
      for (const std::string& why : skipped)
        fmt::print(stderr, "sculpt: warning: skipping a damaged checkpoint: {}\n", why);
      print_checkpoint_warnings(out.ck, path);
      return out;
    } catch (const Error& e) {
      if (!newest_error) newest_error = std::current_exception();
      skipped.emplace_back(e.what());
    }
  }
  std::rethrow_exception(newest_error);
}

void print_checkpoint_warnings(const io::Checkpoint& ck, const std::string& path) {
  std::fflush(stdout);
  for (const std::string& w : ck.warnings)
    fmt::print(stderr, "sculpt: warning: {}\n", Error(w, path).what());
}

io::Checkpoint load_checkpoint_warning(const std::string& path) {
  io::Checkpoint ck = io::load_checkpoint(path);
  print_checkpoint_warnings(ck, path);
  return ck;
}

}  // namespace sculpt::run

// Run directory naming and creation, and the checks and clean-up of a resumed one.
#include "run/run_dir.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "io/atomic_file.h"
#include "report/html.h"

namespace sculpt::run {

namespace fs = std::filesystem;

std::string make_run_dir(const RecipeConfig& r, const std::string& recipe_path,
                         const std::string& out) {
  fs::path dir;
  if (!out.empty()) {
    dir = out;
  } else {
    std::string name =
        r.output.name.empty() ? fs::path(recipe_path).stem().string() : r.output.name;
    char stamp[32];
    std::time_t now = std::time(nullptr);
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    dir = fs::path(r.output.dir) / (name + "-" + stamp);
    for (int i = 2; fs::exists(dir); ++i)
      dir = fs::path(r.output.dir) / (name + "-" + stamp + "-" + std::to_string(i));
  }
  std::error_code ec;
  fs::create_directories(dir / "checkpoints", ec);
  if (ec)
    throw IoError("cannot create run directory: " + ec.message(), dir.string(),
                  "choose another place with --out or output.dir");
  return dir.string();
}

void write_text_file(const std::string& path, const std::string& text) {
  io::write_file_atomic(path, {text}, "file");
}

std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError(std::string("cannot open: ") + std::strerror(errno), path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

RunFiles resume_files(const std::string& dir) {
  const fs::path d(dir);
  RunFiles f{.dir = dir,
             .recipe = (d / "recipe.toml").string(),
             .metrics = (d / "metrics.jsonl").string()};
  std::error_code ec;
  if (!fs::is_directory(d, ec))
    throw IoError(fs::exists(d, ec) ? "not a directory" : "no such run directory", dir,
                  "give the run directory `sculpt train` printed, e.g. runs/<name>-<time>");
  if (!fs::is_regular_file(f.recipe, ec))
    throw IoError("the run directory has no recipe.toml", f.recipe,
                  "is this a directory written by `sculpt train`?");
  return f;
}

namespace {

// A metrics.jsonl line stays if it is a JSON object, not an "end" record, and not past the
// checkpoint: in step, in epoch (`last`: the epoch the checkpoint is in), and for an "epoch"
// record, in complete epochs.
bool keep_metrics_line(const std::string& line, int64_t epochs, int64_t last, int64_t step) {
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return false;
  const std::string event = j.value("event", std::string());
  if (event == "end") return false;
  auto beyond = [&](const char* key, int64_t limit) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number_integer() && it->get<int64_t>() > limit;
  };
  return !beyond("epoch", event == "epoch" ? epochs : last) && !beyond("step", step);
}

}  // namespace

int64_t trim_metrics(const std::string& path, int64_t epochs, int64_t step, bool begun) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return 0;
  std::string kept, line;
  int64_t dropped = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (!keep_metrics_line(line, epochs, epochs + (begun ? 1 : 0), step)) {
      ++dropped;
      continue;
    }
    kept += line;
    kept += '\n';
  }
  if (in.bad()) throw IoError(std::string("cannot read: ") + std::strerror(errno), path);
  in.close();
  if (dropped > 0) write_text_file(path, kept);
  return dropped;
}

std::string write_report(const std::string& dir) {
  const std::string path = (fs::path(dir) / "report.html").string();
  return report::render_text(report::write_run_report({dir}, path));
}

}  // namespace sculpt::run

// Run directory naming and creation.
#include "cli/run_dir.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace sculpt::cli {

namespace fs = std::filesystem;

std::string make_run_dir(const Recipe& r, const std::string& recipe_path, const std::string& out) {
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
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.flush();
  if (!f) throw IoError(std::string("cannot write: ") + std::strerror(errno), path);
}

std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError(std::string("cannot open: ") + std::strerror(errno), path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace sculpt::cli

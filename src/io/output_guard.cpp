// Output checks shared by every verb and library call that writes (see output_guard.h).
#include "io/output_guard.h"

#include <fmt/format.h>

#include <filesystem>

#include "core/error.h"
#include "io/atomic_file.h"

namespace sculpt::io {

namespace fs = std::filesystem;

namespace {

// The path with symlinks resolved as far as it exists, without a trailing separator.
fs::path resolved(const std::string& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  if (ec) c = fs::absolute(p).lexically_normal();
  if (!c.has_filename() && c.has_parent_path()) c = c.parent_path();
  return c;
}

// Whether `input` is `out` itself (the same file, hard links and symlinks included) or lies
// inside the directory `out`.
bool holds(const std::string& out, const std::string& input) {
  if (input.empty()) return false;
  std::error_code ec;
  if (fs::exists(out, ec) && fs::exists(input, ec) && fs::equivalent(out, input, ec)) return true;
  const fs::path o = resolved(out), i = resolved(input);
  auto oi = o.begin(), ii = i.begin();
  for (; oi != o.end() && ii != i.end(); ++oi, ++ii)
    if (*oi != *ii) return false;
  return oi == o.end();
}

// The first bytes of a regular file (at most n).
std::string head_of(const std::string& path, size_t n) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return {};
  std::string s(n, '\0');
  s.resize(std::fread(s.data(), 1, n, f));
  std::fclose(f);
  return s;
}

const char* const kRunFiles[] = {"checkpoints", "metrics.jsonl",   "recipe.toml",
                                 "report.html", "model.sculpt",    "prune.json",
                                 "prune.txt",   "sensitivity.csv", "sensitivity.svg"};

}  // namespace

void check_output_file(const OutputFile& o) {
  for (const std::string& in : o.inputs)
    SCULPT_CHECK(
        !holds(o.path, in), ConfigError,
        fmt::format("the {} would be written over {}, which this command reads", o.what, in),
        o.option + " " + o.path, "write it somewhere else");
  switch (io::output_kind(o.path)) {
    case io::OutputKind::kNew:
    case io::OutputKind::kStream:
      return;
    case io::OutputKind::kDirectory:
      throw ConfigError(fmt::format("is a directory; the {} needs a file name", o.what),
                        o.option + " " + o.path, "e.g. " + (fs::path(o.path) / "out").string());
    case io::OutputKind::kOther:
      throw ConfigError(
          fmt::format("is a block device or a socket, not a place for the {}", o.what),
          o.option + " " + o.path, "give a file name");
    case io::OutputKind::kRegular:
      break;
  }
  if (o.force) return;
  std::error_code ec;
  if (fs::file_size(o.path, ec) == 0 || ec) return;
  size_t longest = 0;
  for (std::string_view b : o.begins) longest = std::max(longest, b.size());
  const std::string head = head_of(o.path, longest);
  for (std::string_view b : o.begins)
    if (std::string_view(head).substr(0, b.size()) == b) return;
  const bool vowel =
      !o.what.empty() && std::string_view("aeiou").find(o.what[0]) != std::string_view::npos;
  throw ConfigError(fmt::format("exists and is not {} {} written by Sculpt, so it is not replaced",
                                vowel ? "an" : "a", o.what),
                    o.option + " " + o.path, "give another path, or --force to replace it");
}

void check_run_dir(const std::string& dir, const std::vector<std::string>& inputs, bool force) {
  const std::string where = "--out " + dir;
  for (const std::string& in : inputs)
    SCULPT_CHECK(!holds(dir, in), ConfigError,
                 fmt::format("the run directory would replace {}, which this command reads", in),
                 where, "give a new directory");
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  SCULPT_CHECK(fs::is_directory(dir, ec), ConfigError,
               "exists and is not a directory, so it cannot be a run directory", where,
               "give a new directory");
  if (force) return;
  std::vector<std::string> held;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name == "checkpoints" && fs::is_directory(e.path(), ec) && fs::is_empty(e.path(), ec))
      continue;  // what an interrupted start leaves
    held.push_back(name);
  }
  if (held.empty()) return;
  std::sort(held.begin(), held.end());
  const bool run = fs::exists(fs::path(dir) / "recipe.toml", ec);
  const std::string what =
      run ? "holds a run (its recipe.toml, checkpoints and metrics would be replaced)"
          : fmt::format(
                "is not empty ({}{})",
                fmt::join(held.begin(), held.begin() + std::min<size_t>(held.size(), 3), ", "),
                held.size() > 3 ? ", ..." : "");
  throw ConfigError(what, where,
                    run ? fmt::format("continue it with `sculpt train --resume {}`, give a new "
                                      "directory, or --force to replace it",
                                      dir)
                        : "give a new or empty directory, or --force to write into it");
}

void clear_previous_run(const std::string& dir) {
  std::error_code ec;
  for (const char* name : kRunFiles) {
    const fs::path p = fs::path(dir) / name;
    fs::remove_all(p, ec);
    if (ec)
      throw IoError(fmt::format("cannot remove the previous run's {}: {}", name, ec.message()),
                    p.string(), "remove it by hand or give a new directory");
  }
}

}  // namespace sculpt::io

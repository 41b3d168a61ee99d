// Run directories read back leniently: only a path that is no run at all, or a recipe that is
// not TOML, is an error; the rest of what is missing or damaged becomes a note in the report.
#include "report/run_reader.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/limits.h"
#include "core/read_file.h"

namespace sculpt::report {

namespace fs = std::filesystem;

namespace {

// The file's text, or nullopt when there is no such file. A file over `max_bytes` (or one that
// is not a file) is an error: a run directory's files are written by Sculpt and stay small.
std::optional<std::string> slurp(const fs::path& p, const char* what, int64_t max_bytes) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::nullopt;
  return read_file_capped(p.string(), {.what = what,
                                       .max_bytes = max_bytes,
                                       .hint = "a run directory's files are written by Sculpt"});
}

void read_recipe(const fs::path& path, RunData& run) {
  std::optional<std::string> text = slurp(path, "recipe", kMaxRecipeBytes);
  if (!text) {
    run.notes.emplace_back("no recipe.toml: the recipe is not shown");
    return;
  }
  toml::table t;
  try {
    t = toml::parse(*text, path.string());
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("the run's recipe is not readable TOML: {}", e.description()),
                      fmt::format("{}:{}", path.string(), e.source().begin.line),
                      "a run directory's recipe.toml is written by sculpt train; restore it or "
                      "leave this run out");
  }
  run.recipe_text = std::move(*text);
  run.optimizer = t["optim"]["name"].value_or(std::string());
  run.model = t["model"]["name"].value_or(std::string());
  run.clipper = t["clip"]["name"].value_or(std::string("none"));
  if (run.clipper == "global-norm") run.clip_limit = t["clip"]["max_norm"].value<double>();
  run.text = t["data"]["source"].value_or(std::string()) == "text";
}

void read_sizes(const fs::path& dir, RunData& run) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() > 1 || !it->is_regular_file(ec)) continue;
    const std::string ext = it->path().extension().string();
    if (ext != ".safetensors" && ext != ".sculpt") continue;
    const auto bytes = fs::file_size(it->path(), ec);
    if (!ec) run.files.push_back({fs::relative(it->path(), dir).generic_string(), int64_t(bytes)});
  }
  std::sort(run.files.begin(), run.files.end(),
            [](const FileSize& a, const FileSize& b) { return a.path < b.path; });
  // The numbered step checkpoints are older copies of last.safetensors (which links the newest).
  const bool has_last = std::any_of(run.files.begin(), run.files.end(), [](const FileSize& f) {
    return f.path == "checkpoints/last.safetensors";
  });
  if (has_last)
    std::erase_if(run.files,
                  [](const FileSize& f) { return f.path.starts_with("checkpoints/step-"); });
}

void read_sensitivity(const fs::path& path, RunData& run) {
  const std::optional<std::string> text = slurp(path, "sensitivity table", kMaxCsvBytes);
  if (!text) return;
  std::istringstream in(*text);
  std::string line;
  int64_t bad = 0;
  std::getline(in, line);  // header: layer,sparsity,val_acc,val_loss
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream cells(line);
    SensitivityPoint p;
    std::string sparsity, acc;
    if (std::getline(cells, p.layer, ',') && std::getline(cells, sparsity, ',') &&
        std::getline(cells, acc, ',')) {
      try {
        p.sparsity = std::stod(sparsity);
        p.val_acc = std::stod(acc);
        run.sensitivity.push_back(std::move(p));
        continue;
      } catch (const std::exception&) {
      }
    }
    ++bad;
  }
  if (bad)
    run.notes.emplace_back(fmt::format("sensitivity.csv: {} unreadable line(s) left out", bad));
}

}  // namespace

const MetricsRecord* RunData::last(std::string_view event) const {
  for (auto it = records.rbegin(); it != records.rend(); ++it)
    if (it->event == event) return &*it;
  return nullptr;
}

ParsedMetrics parse_metrics(std::string_view text) {
  ParsedMetrics out;
  std::vector<int64_t> bad;
  bool torn = false;
  int64_t number = 0;
  while (!text.empty()) {
    ++number;
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    const bool complete = nl != std::string_view::npos;
    text.remove_prefix(complete ? nl + 1 : text.size());
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (std::optional<MetricsRecord> r = parse_metrics_line(line)) {
      out.records.push_back(std::move(*r));
    } else if (!complete) {
      torn = true;
    } else {
      bad.push_back(number);
    }
  }
  if (!bad.empty())
    out.notes.emplace_back(fmt::format(
        "metrics.jsonl: {} line(s) that are not metrics records were left out (line {}{})",
        bad.size(), bad.front(), bad.size() > 1 ? ", ..." : ""));
  if (torn)
    out.notes.emplace_back(
        "metrics.jsonl ends in a partial line (the run was stopped while writing it); that line "
        "was left out");
  return out;
}

RunData read_run(const std::string& dir) {
  const fs::path d(dir);
  std::error_code ec;
  const std::string hint =
      "give the directory of a run written by sculpt train or sculpt prune (it holds "
      "recipe.toml and metrics.jsonl)";
  if (!fs::is_directory(d, ec))
    throw IoError(fs::exists(d, ec) ? "not a run directory (a file)" : "no such run directory", dir,
                  hint);
  const bool has_recipe = fs::exists(d / "recipe.toml", ec);
  const bool has_metrics = fs::exists(d / "metrics.jsonl", ec);
  if (!has_recipe && !has_metrics)
    throw IoError("not a run directory: it has neither recipe.toml nor metrics.jsonl", dir, hint);

  RunData run;
  run.dir = dir;
  run.name = (d.filename().empty() ? d.parent_path() : d).filename().string();
  read_recipe(d / "recipe.toml", run);
  if (const std::optional<std::string> text =
          slurp(d / "metrics.jsonl", "metrics log", kMaxMetricsBytes)) {
    ParsedMetrics m = parse_metrics(*text);
    run.records = std::move(m.records);
    run.notes.insert(run.notes.end(), m.notes.begin(), m.notes.end());
    if (run.records.empty())
      run.notes.emplace_back("metrics.jsonl holds no records yet: there is nothing to chart");
    else if (!run.last("end"))
      run.notes.emplace_back(
          "no end record: the run was stopped before it finished (or is still running); the "
          "report shows what it had written");
  } else {
    run.notes.emplace_back(
        "no metrics.jsonl: the run recorded nothing (stopped before its first step?); there is "
        "nothing to chart");
  }
  read_sizes(d, run);
  read_sensitivity(d / "sensitivity.csv", run);
  return run;
}

}  // namespace sculpt::report

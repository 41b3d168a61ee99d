// `sculpt report RUN_DIR... [--out FILE]`: the HTML report of one run, or of several runs
// overlaid (one series per run in every chart, one table row per run), and its text summary.
// Default output: RUN_DIR/report.html for one run, ./report.html for several.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/output_guard.h"
#include "cli/verb.h"
#include "core/error.h"
#include "report/html.h"

namespace sculpt::cli {

namespace {

struct ReportArgs {
  std::vector<std::string> dirs;
  std::string out;
  bool force = false;
};

void run_report(const ReportArgs& a) {
  SCULPT_CHECK(!a.dirs.empty(), ConfigError, "give at least one run directory", "sculpt report",
               "e.g. sculpt report runs/default-20261125-160225");
  const std::string out = !a.out.empty() ? a.out
                          : a.dirs.size() == 1
                              ? (std::filesystem::path(a.dirs[0]) / "report.html").string()
                              : std::string("report.html");
  std::vector<std::string> inputs = a.dirs;  // and what is read from each
  for (const std::string& d : a.dirs)
    for (const char* f : {"metrics.jsonl", "recipe.toml"})
      inputs.push_back((std::filesystem::path(d) / f).string());
  check_output_file({.path = out,
                     .option = "--out",
                     .what = "report",
                     .begins = {"<!DOCTYPE html>"},
                     .inputs = inputs,
                     .force = a.force});
  const report::RunReport r = report::write_run_report(a.dirs, out);
  fmt::print("{}report: {}\n", report::render_text(r), out);
}

}  // namespace

void add_report(CLI::App& app) {
  const auto [sub, a] = add_verb<ReportArgs>(
      app, "report", "Write the HTML report of a run, or compare several runs in one report",
      run_report);
  sub->add_option("run_dirs", a->dirs, "Run directories (several: overlaid in the same charts)")
      ->required();
  sub->add_option("--out,-o", a->out,
                  "Output file (default: RUN_DIR/report.html for one run, ./report.html for "
                  "several)");
  add_force_flag(sub, a->force);
}

}  // namespace sculpt::cli

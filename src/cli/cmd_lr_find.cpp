// `sculpt lr-find`: the learning-rate range test on a recipe (train/lr_find.h). Prints the loss
// along the sweep and the suggested rate, and writes lr-find.svg (loss vs log lr with the
// suggestions marked) and lr-find.csv into the output directory. Nothing is trained for real.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/output_guard.h"
#include "cli/verb.h"
#include "core/error.h"
#include "io/recipe.h"
#include "report/svg_plot.h"
#include "run/run_dir.h"
#include "train/lr_find.h"
#include "train/trainer.h"

namespace sculpt::cli {

using namespace sculpt::run;  // run directories and checkpoints (src/run)

namespace {

namespace fs = std::filesystem;

struct LrFindArgs {
  std::string recipe;
  std::vector<std::string> sets;
  train::LrFindConfig config;
  std::string plot;  // default: <out>/lr-find.svg
  std::string out;   // default: <output.dir>/lr-find-<recipe stem>
  bool force = false;
};

std::string csv_text(const train::LrFindResult& r) {
  std::string s = "lr,loss,smoothed\n";
  for (size_t i = 0; i < r.lr.size(); ++i)
    s += fmt::format("{:.9g},{:.9g},{:.9g}\n", r.lr[i], r.loss[i], r.smoothed[i]);
  return s;
}

std::string g3(double v) { return std::isfinite(v) ? fmt::format("{:.3g}", v) : "none"; }

report::Plot make_plot(const train::LrFindResult& r, const std::string& title) {
  // The blow-up at the end of the sweep would squash the chart: losses above 1.5x the highest
  // smoothed loss before the minimum (the starting plateau) are left out as gaps.
  double cap = 0.0;
  const auto min_at = std::min_element(r.smoothed.begin(), r.smoothed.end());
  if (min_at != r.smoothed.end()) cap = 1.5 * *std::max_element(r.smoothed.begin(), min_at + 1);
  const auto capped = [cap](const std::vector<double>& v) {
    std::vector<double> out;
    for (double y : v) out.push_back(y <= cap ? y : std::numeric_limits<double>::quiet_NaN());
    return out;
  };
  report::Plot p{
      .title = title,
      .x_label = fmt::format("learning rate (markers: suggested {}, steepest {}, min loss/10 {})",
                             g3(r.suggested), g3(r.suggested_steepest), g3(r.suggested_min10)),
      .y_label = "training loss",
      .log_x = true,
      .series = {{.name = "batch loss", .x = r.lr, .y = capped(r.loss), .color = "#9ecae1"},
                 {.name = "smoothed", .x = r.lr, .y = capped(r.smoothed), .color = "#08519c"}}};
  // Only the suggestion is labelled: labels of nearby markers would overlap.
  if (std::isfinite(r.suggested))
    p.markers.push_back({r.suggested, "suggested " + g3(r.suggested)});
  for (double x : {r.suggested_steepest, r.suggested_min10})
    if (std::isfinite(x) && x != r.suggested) p.markers.push_back({x, ""});
  return p;
}

// Every 10th point and the last one.
void print_table(const train::LrFindResult& r) {
  fmt::print("{:>12}  {:>12}  {:>12}\n", "lr", "loss", "smoothed");
  const size_t n = r.lr.size();
  for (size_t i = 0; i < n; ++i)
    if (i % 10 == 0 || i + 1 == n)
      fmt::print("{:>12.4g}  {:>12.5g}  {:>12.5g}\n", r.lr[i], r.loss[i], r.smoothed[i]);
}

void run_lr_find(const LrFindArgs& a) {
  train::check_lr_find_config(a.config);  // option errors before the data is loaded
  const RecipeConfig recipe = load_recipe(a.recipe, a.sets);
  const std::string stem = fs::path(a.recipe).stem().string();
  const fs::path out =
      a.out.empty() ? fs::path(recipe.output.dir) / ("lr-find-" + stem) : fs::path(a.out);
  const fs::path plot = a.plot.empty() ? out / "lr-find.svg" : fs::path(a.plot);
  fs::path csv = plot;
  csv.replace_extension(".csv");
  check_output_file({.path = plot.string(),
                     .option = "--plot",
                     .what = "plot",
                     .begins = {"<svg", "<?xml"},
                     .inputs = {a.recipe},
                     .force = a.force});
  check_output_file({.path = csv.string(),
                     .option = "--plot",
                     .what = "lr-find CSV file",
                     .begins = {"lr,loss,"},
                     .inputs = {a.recipe},
                     .force = a.force});
  train::Trainer trainer(recipe);
  const train::LrFindConfig& c = a.config;
  fmt::print("lr-find: {} ({} parameters, optimizer {}, batch {}, {} steps per epoch)\n", stem,
             trainer.params().num_params(), recipe.optim.name, recipe.train.batch_size,
             trainer.steps_per_epoch());
  fmt::print(
      "sweep: {} steps, lr from {:.3g} to {:.3g}, smoothing {}, stop at {}x the best "
      "smoothed loss\n\n",
      c.steps, c.start, c.end, c.smooth, c.diverge);
  std::fflush(stdout);

  const train::LrFindResult r = train::lr_find(trainer, c);
  print_table(r);
  fmt::print("\n");
  if (r.diverged && !r.lr.empty())
    fmt::print("stopped after {} of {} steps: the loss diverged at lr {:.3g}\n", r.steps_run,
               c.steps, r.lr.back());
  if (std::isfinite(r.suggested)) {
    fmt::print("suggested lr: {} (steepest descent {}, minimum loss at {} -> /10 = {})\n",
               g3(r.suggested), g3(r.suggested_steepest), g3(r.min_loss_lr), g3(r.suggested_min10));
    fmt::print("use it: --set optim.lr={}\n", g3(r.suggested));
  } else {
    fmt::print("no suggested lr\n");
  }
  if (!r.note.empty()) fmt::print("note: {}\n", r.note);

  std::error_code ec;
  if (plot.has_parent_path()) fs::create_directories(plot.parent_path(), ec);
  if (ec)
    throw IoError("cannot create the directory: " + ec.message(), plot.parent_path().string(),
                  "choose another place with --out or --plot");
  report::write_svg(make_plot(r, fmt::format("{}: learning-rate range test", stem)), plot.string());
  write_text_file(csv.string(), csv_text(r));
  fmt::print("wrote {}\nwrote {}\n", plot.string(), csv.string());
}

}  // namespace

void add_lr_find(CLI::App& app) {
  const auto [sub, args] = add_verb<LrFindArgs>(
      app, "lr-find", "Learning-rate range test: sweep the rate up exponentially and suggest one",
      run_lr_find);
  add_recipe_option(sub, args->recipe)->required();
  add_set_option(sub, args->sets);
  sub->add_option("--start", args->config.start, "First learning rate")->capture_default_str();
  sub->add_option("--end", args->config.end, "Last learning rate")->capture_default_str();
  sub->add_option("--steps", args->config.steps, "Steps in the sweep (at least 10)")
      ->capture_default_str();
  sub->add_option("--smooth", args->config.smooth,
                  "Coefficient of the loss's moving average, in [0, 1)")
      ->capture_default_str();
  sub->add_option("--diverge", args->config.diverge,
                  "Stop when the smoothed loss exceeds this many times its best")
      ->capture_default_str();
  sub->add_option("--plot", args->plot,
                  "SVG of the loss vs the rate (default: <out>/lr-find.svg); the CSV goes beside "
                  "it with the extension .csv");
  sub->add_option("--out,-o", args->out,
                  "Output directory (default: <output.dir>/lr-find-<recipe name>)");
  add_force_flag(sub, args->force);
}

}  // namespace sculpt::cli

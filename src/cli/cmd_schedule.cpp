// `sculpt schedule`: a dry run of a recipe's learning-rate schedule. It builds the run (data and
// model give the steps per epoch) but trains nothing, prints the rate (and the cycled momentum)
// every K steps and, with --plot, draws the curve over every step as SVG.
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cli/commands.h"
#include "cli/output_guard.h"
#include "cli/verb.h"
#include "core/error.h"
#include "core/limits.h"
#include "io/recipe.h"
#include "optim/optimizer.h"
#include "report/svg_plot.h"
#include "sched/schedule.h"
#include "train/trainer.h"

namespace sculpt::cli {

namespace {

struct ScheduleArgs {
  std::string recipe;
  std::vector<std::string> sets;
  int64_t every = 0;  // 0: about 25 rows
  int64_t steps = 0;  // 0: the whole run
  std::string plot;
  bool force = false;
};

// Rows printed for `total` steps every `k`: 0, k, 2k, ... and the last step.
int64_t row_count(int64_t total, int64_t k) {
  return (total - 1) / k + 1 + ((total - 1) % k != 0 ? 1 : 0);
}

// The row spacing without --every: 20-30 rows, at whole epochs or whole fractions of an epoch
// when one of those gives such a count (closest to 25), else ceil((total - 1) / 24) steps.
int64_t default_every(int64_t total, int64_t steps_per_epoch) {
  if (total <= 30) return 1;
  std::vector<int64_t> candidates;
  for (int64_t d = 1; d <= steps_per_epoch; ++d)
    if (steps_per_epoch % d == 0) candidates.push_back(steps_per_epoch / d);
  // Multiples of an epoch while they still give 20 rows (a run of 2^40 steps must not loop).
  for (int64_t m = 2; m * steps_per_epoch < total && row_count(total, m * steps_per_epoch) >= 20;
       ++m)
    candidates.push_back(m * steps_per_epoch);
  int64_t best = 0;
  const auto off = [&](int64_t k) { return std::abs(row_count(total, k) - 25); };
  for (int64_t k : candidates)
    if (row_count(total, k) >= 20 && row_count(total, k) <= 30 && (best == 0 || off(k) < off(best)))
      best = k;
  return best > 0 ? best : (total + 22) / 24;
}

std::string option_text(const Options& options, std::string_view key, std::string fallback) {
  const Option* o = options.find(key);
  if (!o) return fallback;
  if (const auto* s = std::get_if<std::string>(&o->value)) return *s;
  return format_value(o->value);
}

// "plots/lr.svg" -> "plots/lr-momentum.svg"
std::string momentum_path(const std::string& plot) {
  std::filesystem::path p(plot);
  p.replace_filename(p.stem().string() + "-momentum" + p.extension().string());
  return p.string();
}

// CLI11's PositiveNumber prints the whole double range on failure; this says what is wanted.
std::string positive_count(const std::string& text) {
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  return digits && text.find_first_not_of('0') != std::string::npos
             ? std::string()
             : "must be a positive whole number, got " + text;
}

// A plot is at most this many points: a million epochs drawn step by step would be a file of
// hundreds of megabytes that no viewer opens.
constexpr int64_t kMaxPlotPoints = 10000;

void write_plots(const ScheduleArgs& a, const RecipeConfig& recipe, const sched::Schedule& s,
                 int64_t steps, int64_t steps_per_epoch) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  report::Series lr{.name = "lr"}, momentum{.name = "momentum"};
  // Every step of a short run; else about kMaxPlotPoints evenly spaced ones, the last included.
  const int64_t stride = std::max<int64_t>(1, (steps + kMaxPlotPoints - 2) / (kMaxPlotPoints - 1));
  std::vector<int64_t> points;
  for (int64_t step = 0; step < steps; step += stride) points.push_back(step);
  if (points.back() != steps - 1) points.push_back(steps - 1);
  for (const int64_t step : points) {
    const double epoch = double(step) / double(steps_per_epoch);
    lr.x.push_back(epoch);
    lr.y.push_back(s.at(step));
    if (s.cycles_momentum()) {
      momentum.x.push_back(epoch);
      momentum.y.push_back(s.momentum_at(step).value_or(nan));
    }
  }
  const std::string stem = std::filesystem::path(a.recipe).stem().string();
  report::Plot p{.title = fmt::format("{}: {} schedule", stem, recipe.schedule.name),
                 .x_label = "epoch",
                 .y_label = "learning rate",
                 .series = {std::move(lr)}};
  report::write_svg(p, a.plot);
  fmt::print("wrote {}\n", a.plot);
  if (!s.cycles_momentum()) return;
  p.y_label = "momentum";
  p.series = {std::move(momentum)};
  const std::string path = momentum_path(a.plot);
  report::write_svg(p, path);
  fmt::print("wrote {}\n", path);
}

void run_schedule(const ScheduleArgs& a) {
  const RecipeConfig recipe = load_recipe(a.recipe, a.sets);
  if (!a.plot.empty())
    for (const std::string& p : {a.plot, momentum_path(a.plot)})
      check_output_file({.path = p,
                         .option = "--plot",
                         .what = "plot",
                         .begins = {"<svg", "<?xml"},
                         .inputs = {a.recipe},
                         .force = a.force});
  const train::Trainer trainer(recipe);  // loads the data: the steps per epoch come from it
  const sched::Schedule& s = trainer.schedule();
  const int64_t per_epoch = trainer.steps_per_epoch();
  SCULPT_CHECK(a.steps <= kMaxSteps, ConfigError,
               fmt::format("must be at most 2^40, got {}", a.steps), "--steps",
               "no run is longer (train.epochs x steps per epoch is checked against it too)");
  const int64_t steps = a.steps > 0 ? a.steps : trainer.total_steps();
  SCULPT_CHECK(steps > 0, ConfigError, "the run has no steps", a.recipe,
               "set train.epochs >= 1 or give --steps N");
  const int64_t every = a.every > 0 ? a.every : default_every(steps, per_epoch);
  const bool momentum = s.cycles_momentum();

  fmt::print(
      "schedule {} (unit {}, update {}): {} steps per epoch, {} total steps ({} epochs), "
      "base lr {:.6g}\n",
      recipe.schedule.name, option_text(recipe.schedule.options, "unit", "epoch"),
      option_text(recipe.schedule.options, "update", "step"), per_epoch, trainer.total_steps(),
      recipe.train.epochs, optim::base_lr(recipe.optim));
  if (steps != trainer.total_steps())
    fmt::print("showing {} steps; the schedule is built for the run's {}\n", steps,
               trainer.total_steps());
  fmt::print("{:>8}  {:>8}  {:>12}{}\n", "step", "epoch", "lr", momentum ? "      momentum" : "");
  std::vector<int64_t> rows;
  for (int64_t step = 0; step < steps; step += every) rows.push_back(step);
  if (rows.back() != steps - 1) rows.push_back(steps - 1);
  for (const int64_t step : rows) {
    // The epoch truncated, not rounded: the last step of a run is in epoch 9.99, not 10.00.
    const int64_t centi = step * 100 / per_epoch;
    fmt::print("{:>8}  {:>5}.{:02}  {:>12.6g}", step, centi / 100, centi % 100, s.at(step));
    if (momentum) {
      const auto m = s.momentum_at(step);
      fmt::print("  {:>12}", m ? fmt::format("{:.6g}", *m) : "-");
    }
    fmt::print("\n");
  }
  if (s.watches())
    fmt::print(
        "reduce-on-plateau: lr shown before any reduction; the plateau lowers it when {} "
        "stalls\n",
        s.metric());
  if (!a.plot.empty()) write_plots(a, recipe, s, steps, per_epoch);
}

}  // namespace

void add_schedule(CLI::App& app) {
  const auto [sub, args] = add_verb<ScheduleArgs>(
      app, "schedule", "Print (and plot) a recipe's learning-rate schedule without training",
      run_schedule);
  add_recipe_option(sub, args->recipe)->required();
  add_set_option(sub, args->sets);
  sub->add_option("--every", args->every, "Print every K-th step (default: about 25 rows)")
      ->check(positive_count);
  sub->add_option("--steps", args->steps,
                  "Show the first N steps (default: the whole run, train.epochs x steps per "
                  "epoch; the schedule stays built for the whole run)")
      ->check(positive_count);
  sub->add_option("--plot", args->plot,
                  "Write the lr curve over every step as SVG (and FILE-momentum.svg when the "
                  "schedule cycles the momentum)");
  add_force_flag(sub, args->force);
}

}  // namespace sculpt::cli

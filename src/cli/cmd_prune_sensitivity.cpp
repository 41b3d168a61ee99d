// `sculpt prune sensitivity --checkpoint C`: how much each layer can lose alone. For every
// prunable layer and sparsity, the dense model with only that layer pruned (no fine-tuning) is
// evaluated on the validation split; the table is printed and written as CSV and SVG.
#include <fmt/format.h>

#include <filesystem>

#include "cli/output_guard.h"
#include "cli/prune_source.h"
#include "cli/verb.h"
#include "core/error.h"
#include "prune/criterion.h"
#include "report/svg_plot.h"
#include "run/run_dir.h"

namespace sculpt::cli {

using namespace sculpt::run;  // run directories and checkpoints (src/run)

namespace {

struct SensitivityArgs {
  std::string checkpoint, out;
  std::vector<double> sparsities = {0.0, 0.1, 0.2, 0.3,  0.4,  0.5, 0.6,
                                    0.7, 0.8, 0.9, 0.95, 0.97, 0.99};
  std::string criterion = "magnitude";
  std::vector<std::string> sets;
  bool force = false;
};

void run_sensitivity(const SensitivityArgs& a) {
  SCULPT_CHECK(!a.checkpoint.empty(), ConfigError, "--checkpoint is required",
               "sculpt prune sensitivity", "give a run directory or a checkpoint file");
  for (double s : a.sparsities)
    SCULPT_CHECK(s >= 0.0 && s < 1.0, ConfigError,
                 fmt::format("sparsities must be in [0, 1), got {}", s), "--sparsities");
  const PruneSource src = load_prune_source(a.checkpoint);
  namespace fs = std::filesystem;
  const std::string dir = !a.out.empty()         ? a.out
                          : !src.run_dir.empty() ? src.run_dir
                                                 : fs::path(src.path).parent_path().string();
  const std::string base = (fs::path(dir.empty() ? "." : dir) / "sensitivity").string();
  check_output_file({.path = base + ".csv",
                     .option = "--out",
                     .what = "sensitivity CSV file",
                     .begins = {"layer,sparsity,"},
                     .inputs = {src.path},
                     .force = a.force});
  check_output_file({.path = base + ".svg",
                     .option = "--out",
                     .what = "plot",
                     .begins = {"<svg", "<?xml"},
                     .inputs = {src.path},
                     .force = a.force});
  auto t = trainer_from(source_recipe(src, a.sets), src.checkpoint, src.path);
  SCULPT_CHECK(t->splits().val.size() > 0, ConfigError,
               "sensitivity is measured on the validation split, and it is empty",
               "data.val_fraction", "--set data.val_fraction=0.1 (the test split is never used)");
  const train::Trainer::Snapshot dense = t->snapshot();

  report::Plot plot{.title = "Sensitivity: validation accuracy with one layer pruned",
                    .x_label = "sparsity of the layer (%)",
                    .y_label = "validation accuracy (%)"};
  std::string csv = "layer,sparsity,val_acc,val_loss\n";
  fmt::print("{:<10}", "sparsity");
  for (double s : a.sparsities) fmt::print(" {:>6.0f}%", 100.0 * s);
  fmt::print("\n");
  const std::vector<prune::PrunableLayer>& prunable = t->prunable();
  for (size_t li = 0; li < prunable.size(); ++li) {
    const prune::PrunableLayer& layer = prunable[li];
    if (li > 0 && prunable[li - 1].name == layer.name) continue;  // weight_hh: swept with _ih
    report::Series series{.name = layer.name};
    fmt::print("{:<10}", layer.name);
    for (double s : a.sparsities) {
      t->restore(dense);
      t->reset_masks();
      prune::PruneConfig cfg;
      cfg.criterion = a.criterion;
      cfg.scope = prune::Scope::kLayer;
      cfg.sparsity = 0.0;
      cfg.layers = fmt::format("{}={}", layer.name, s);
      t->prune_once(cfg, t->splits().val);
      const train::EvalResult r = t->evaluate_split(t->splits().val);
      csv += fmt::format("{},{},{},{}\n", layer.name, s, r.accuracy, r.loss);
      series.x.push_back(100.0 * s);
      series.y.push_back(100.0 * r.accuracy);
      fmt::print(" {:>6.2f}%", 100.0 * r.accuracy);
      std::fflush(stdout);
    }
    fmt::print("\n");
    plot.series.push_back(std::move(series));
  }
  std::error_code ec;
  fs::create_directories(dir.empty() ? "." : dir, ec);
  write_text_file(base + ".csv", csv);
  report::write_svg(plot, base + ".svg");
  fmt::print("wrote {}.csv and {}.svg\n", base, base);
}

}  // namespace

void add_prune_sensitivity(CLI::App& prune) {
  const auto [sub, a] = add_verb<SensitivityArgs>(
      prune, "sensitivity", "Validation accuracy with each layer pruned alone, at sparsities 0-99%",
      run_sensitivity);
  add_checkpoint_option(sub, a->checkpoint);
  sub->add_option("--sparsities", a->sparsities, "Sparsities to try")->delimiter(',');
  sub->add_option("--criterion", a->criterion,
                  fmt::format("{}", fmt::join(prune::criterion_names(), " | ")))
      ->capture_default_str();
  sub->add_option("--out,-o", a->out, "Directory for sensitivity.csv/.svg (default: the run's)");
  add_set_option(sub, a->sets);
  add_force_flag(sub, a->force);
}

}  // namespace sculpt::cli

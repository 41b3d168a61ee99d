// `sculpt prune --checkpoint C (--sparsity S | --threshold T | --max-drop P)`: prunes a trained
// model once (or in --rounds rounds), fine-tunes it, removes dead neurons/channels for real
// (surgery) and writes a new run directory with the pruned checkpoint and a per-layer table.
// `sculpt prune sensitivity` lives in cmd_prune_sensitivity.cpp.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "cli/output_guard.h"
#include "cli/prune_source.h"
#include "cli/verb.h"
#include "core/error.h"
#include "prune/criterion.h"
#include "prune/surgery.h"
#include "report/metrics.h"
#include "report/prune_table.h"
#include "run/run_dir.h"
#include "run/train_log.h"

namespace sculpt::cli {

using namespace sculpt::run;  // run directories and checkpoints (src/run)

namespace {

struct PruneArgs {
  std::string checkpoint, out;
  std::optional<double> sparsity, threshold, max_drop;
  prune::PruneConfig cfg;  // criterion, granularity, scope, n, m, exclude, layers, batches
  int64_t rounds = 1, finetune_epochs = 2;
  double finetune_lr = 0.0;  // 0: a tenth of the run's optim.lr
  bool rewind = false, no_surgery = false, force = false;
  std::vector<std::string> sets;
};

struct Outcome {
  std::unique_ptr<train::Trainer> trainer;
  train::EvalResult val, test;

  bool regression() const { return trainer->splits().train.task == data::Task::kRegression; }
  // "val 86.57%  test 85.99%", or the mean losses for regression.
  std::string scores() const {
    if (regression()) return fmt::format("val loss {:.6g}  test loss {:.6g}", val.loss, test.loss);
    return fmt::format("val {:.2f}%  test {:.2f}%", 100.0 * val.accuracy, 100.0 * test.accuracy);
  }
};

// The records of the run's metrics.jsonl: the dense and pruned evaluations ("eval"), each
// pruning ("prune", with the sparsity per layer), the fine-tuning epochs and the "end". Steps
// and epochs count the fine-tuning of every pass in sequence. Kept in memory until the run
// directory exists (it is made once the result is known: a failed search leaves none).
struct PruneLog {
  std::vector<report::MetricsRecord> records;
  int64_t epochs = 0, steps = 0;
  double train_seconds = 0.0, train_samples = 0.0;

  void eval(const Outcome& o, const char* what) {
    report::MetricsRecord r{.event = "eval", .step = steps, .epoch = epochs};
    scores(r, o);
    r.extra[what] = 1;
    records.push_back(std::move(r));
  }
  void pruned(const train::Trainer& t, double target) {
    report::MetricsRecord r{.event = "prune", .step = steps, .epoch = epochs};
    r.sparsity = t.sparsity();
    r.extra["target"] = target;
    add_layer_extras(r, t.prune_stats());
    records.push_back(std::move(r));
  }
  // Epoch records of a fine-tuning run of `t`.
  train::TrainHooks hooks(const train::Trainer& t, bool regression) {
    train::TrainHooks h;
    h.on_epoch = [this, &t, regression](const train::EpochEvent& e) {
      report::MetricsRecord r = epoch_record(e, t, regression);
      r.epoch = epochs + e.epoch;
      r.step = steps + e.step;
      records.push_back(std::move(r));
      train_seconds += e.seconds;
      train_samples += double(t.splits().train.size());
    };
    return h;
  }
  void finetuned(const train::Trainer& t) {
    epochs += t.epoch();
    steps += t.step();
  }
  static void scores(report::MetricsRecord& r, const Outcome& o) {
    const bool acc = !o.regression();
    if (o.val.samples > 0) {
      r.val_loss = o.val.loss;
      if (acc) r.val_acc = o.val.accuracy;
    }
    r.test_loss = o.test.loss;
    if (acc) r.test_acc = o.test.accuracy;
  }
};

// The fine-tuning recipe: the run's, for `epochs` epochs of cosine decay from the fine-tune
// rate (or, when rewinding, the run's own schedule from the rewound weights).
RecipeConfig finetune_recipe(const PruneSource& src, const PruneArgs& a, int64_t epochs,
                             double lr) {
  std::vector<std::string> o = a.sets;
  o.push_back(fmt::format("train.epochs={}", std::max<int64_t>(epochs, 1)));
  if (!a.rewind) {
    o.insert(o.end(),
             {"schedule.name=cosine", "schedule.warmup=0", fmt::format("optim.lr={}", lr)});
  }
  return source_recipe(src, o);
}

Outcome evaluate(std::unique_ptr<train::Trainer> t) {
  Outcome o;
  o.val = t->splits().val.size() ? t->evaluate_split(t->splits().val) : train::EvalResult{};
  o.test = t->evaluate_split(t->splits().test);
  o.trainer = std::move(t);
  return o;
}

// One prune-then-fine-tune pass from `start` (weights + masks) to `sparsity`.
Outcome prune_pass(const PruneSource& src, const PruneArgs& a, const io::Checkpoint& start,
                   double sparsity, double lr, PruneLog& log) {
  auto t = trainer_from(finetune_recipe(src, a, a.finetune_epochs, lr), start, src.path);
  prune::PruneConfig cfg = a.cfg;
  cfg.sparsity = sparsity;
  t->prune_once(cfg, t->splits().val);
  log.pruned(*t, sparsity);
  if (a.finetune_epochs > 0) {
    io::Checkpoint pruned = train::weights_of(*t);
    if (a.rewind)
      for (const auto& [name, tensor] : start.tensors)
        if (name.starts_with("rewind.")) pruned.tensors[name] = tensor;
    t = trainer_from(finetune_recipe(src, a, a.finetune_epochs, lr), pruned, src.path, a.rewind);
    t->run(log.hooks(*t, t->splits().train.task == data::Task::kRegression));
    log.finetuned(*t);
  }
  Outcome o = evaluate(std::move(t));
  log.eval(o, "pruned");
  return o;
}

// Rounds of geometric sparsity 1 - (1 - s)^(r/k): each round prunes the same fraction of what
// is left (iterative pruning; one round is one-shot).
Outcome prune_rounds(const PruneSource& src, const PruneArgs& a, const io::Checkpoint& dense,
                     double sparsity, double lr, PruneLog& log) {
  Outcome o;
  io::Checkpoint start = dense;
  for (int64_t r = 1; r <= a.rounds; ++r) {
    const double s = 1.0 - std::pow(1.0 - sparsity, double(r) / double(a.rounds));
    o = prune_pass(src, a, start, s, lr, log);
    if (a.rounds > 1)
      fmt::print("round {}/{}: sparsity {:.1f}%, {}\n", r, a.rounds, 100.0 * o.trainer->sparsity(),
                 o.scores());
    if (r < a.rounds) {
      start = train::weights_of(*o.trainer);
      for (const auto& [name, tensor] : dense.tensors)
        if (name.starts_with("rewind.")) start.tensors[name] = tensor;
    }
  }
  return o;
}

// --max-drop: the largest sparsity of a fixed ladder whose validation accuracy (after the
// fine-tune) stays within `drop` points of the dense model's. Validation only, never test.
Outcome search_max_drop(const PruneSource& src, const PruneArgs& a, const io::Checkpoint& dense,
                        double dense_val, double lr, PruneLog& log) {
  static const double ladder[] = {0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99};
  const double floor = dense_val - *a.max_drop / 100.0;
  Outcome best;
  fmt::print(
      "searching the largest sparsity with val accuracy >= {:.2f}% (dense {:.2f}% - {} "
      "points):\n",
      100.0 * floor, 100.0 * dense_val, *a.max_drop);
  for (double s : ladder) {
    Outcome o = prune_rounds(src, a, dense, s, lr, log);
    const bool ok = o.val.accuracy >= floor;
    fmt::print("  sparsity {:>4.1f}%  val {:.2f}%  {}\n", 100.0 * s, 100.0 * o.val.accuracy,
               ok ? "ok" : "below");
    if (!ok) break;
    best = std::move(o);
  }
  SCULPT_CHECK(best.trainer, NumericError,
               fmt::format("even {:.0f}% sparsity loses more than {} points of validation "
                           "accuracy",
                           100.0 * ladder[0], *a.max_drop),
               src.path, "allow a larger --max-drop or fine-tune longer (--finetune-epochs)");
  return best;
}

// Removes dead units for real (whole neurons/channels pruned, by a structured granularity or
// because unstructured pruning emptied their rows); returns the smaller model, which computes
// the same outputs, or `o` unchanged when no unit is dead.
Outcome maybe_surgery(const PruneSource& src, const PruneArgs& a, Outcome o) {
  if (a.no_surgery) return o;
  train::Trainer& t = *o.trainer;
  RecipeConfig r = t.recipe();
  const nn::ModelSpec spec = train::model_spec(r.model, t.model().outputs());
  prune::SurgeryResult cut =
      prune::remove_dead_units(spec, t.model().input_shape(), train::weights_of(t));
  for (const std::string& note : cut.notes) fmt::print("surgery: {}\n", note);
  if (cut.changes.empty()) return o;
  for (const prune::UnitChange& c : cut.changes)
    fmt::print("surgery: {} {} -> {} units\n", c.layer, c.before, c.after);
  r.model.name = "custom";
  r.model.custom = cut.spec;
  return evaluate(trainer_from(std::move(r), cut.checkpoint, src.path));
}

void write_outputs(const std::string& dir, const Outcome& o, const Outcome& dense, PruneLog& log,
                   double wall_s) {
  train::Trainer& t = *o.trainer;
  t.save_checkpoint(dir + "/checkpoints/last.safetensors");
  report::MetricsRecord end{.event = "end", .step = log.steps, .epoch = log.epochs};
  PruneLog::scores(end, o);
  end.time_s = wall_s;
  if (log.train_seconds > 0) end.samples_per_s = log.train_samples / log.train_seconds;
  add_model_counts(end, t);
  log.records.push_back(std::move(end));
  report::MetricsWriter metrics(dir + "/metrics.jsonl", /*accuracy=*/!o.regression());
  for (const report::MetricsRecord& r : log.records) metrics.write(r);
  write_text_file(dir + "/recipe.toml", to_toml(t.recipe()));
  const std::string table = report::format_prune_table(t.prunable(), t.prune_stats());
  nlohmann::json j = {{"dense",
                       {{"val_acc", dense.val.accuracy},
                        {"test_acc", dense.test.accuracy},
                        {"val_loss", dense.val.loss},
                        {"test_loss", dense.test.loss},
                        {"params", dense.trainer->params().num_params()}}},
                      {"pruned",
                       {{"val_acc", o.val.accuracy},
                        {"test_acc", o.test.accuracy},
                        {"val_loss", o.val.loss},
                        {"test_loss", o.test.loss},
                        {"params", t.params().num_params()},
                        {"sparsity", t.sparsity()}}},
                      {"layers", nlohmann::json::array()}};
  for (const prune::LayerStats& s : t.prune_stats())
    j["layers"].push_back({{"name", s.name},
                           {"params", s.params},
                           {"kept", s.kept},
                           {"units", s.units},
                           {"dead_units", s.dead_units},
                           {"flops", s.flops},
                           {"flops_kept", s.flops_kept}});
  write_text_file(dir + "/prune.json", j.dump(2) + "\n");
  write_text_file(dir + "/prune.txt", table);
}

// The options' checks, before anything is read; applies --threshold to the config.
void check_prune_args(PruneArgs& a) {
  const int targets =
      int(a.sparsity.has_value()) + int(a.threshold.has_value()) + int(a.max_drop.has_value());
  const bool n_m = a.cfg.granularity == prune::Granularity::kNM;  // its sparsity is 1 - n/m
  SCULPT_CHECK(targets == 1 || (n_m && targets == 0), ConfigError,
               "give exactly one of --sparsity, --threshold and --max-drop", "sculpt prune",
               "e.g. --sparsity 0.9 prunes 90% of the weights");
  if (a.sparsity)
    SCULPT_CHECK(*a.sparsity >= 0.0 && *a.sparsity < 1.0, ConfigError,
                 fmt::format("--sparsity must be in [0, 1), got {}", *a.sparsity), "--sparsity",
                 "0.9 prunes 90% of the weights");
  // CLI11 reads "nan" and "inf" as numbers: each option says what it takes.
  if (a.threshold)
    SCULPT_CHECK(std::isfinite(*a.threshold), ConfigError,
                 fmt::format("must be a finite number, got {}", *a.threshold), "--threshold",
                 "e.g. --threshold 0.01 prunes entries with |w| <= 0.01");
  if (a.max_drop)
    SCULPT_CHECK(std::isfinite(*a.max_drop) && *a.max_drop >= 0, ConfigError,
                 fmt::format("must be a finite number of points >= 0, got {}", *a.max_drop),
                 "--max-drop", "e.g. --max-drop 1 allows one point of validation accuracy");
  SCULPT_CHECK(std::isfinite(a.finetune_lr) && a.finetune_lr >= 0, ConfigError,
               fmt::format("must be a finite rate >= 0, got {}", a.finetune_lr), "--finetune-lr",
               "leave it out for a tenth of the run's optim.lr");
  if (a.threshold) a.cfg.threshold = *a.threshold;
  SCULPT_CHECK(a.rounds >= 1 && a.finetune_epochs >= 0, ConfigError,
               "--rounds must be >= 1 and --finetune-epochs >= 0", "sculpt prune");
  prune::validate(a.cfg, "prune");
}

// The output run's name: the source run's (or output.name) with "-pruned".
std::string pruned_name(const RecipeConfig& base, const PruneSource& src) {
  if (!base.output.name.empty()) return base.output.name + "-pruned";
  if (src.run_dir.empty()) return std::filesystem::path(src.path).stem().string() + "-pruned";
  std::filesystem::path dir(src.run_dir);
  if (dir.filename().empty()) dir = dir.parent_path();  // "runs/x/"
  return dir.filename().string() + "-pruned";
}

void run_prune(PruneArgs a) {
  check_prune_args(a);
  const PruneSource src = load_prune_source(a.checkpoint);
  if (!a.out.empty()) check_run_dir(a.out, {src.path, src.run_dir}, a.force);
  const RecipeConfig base = source_recipe(src, a.sets);
  const Option* run_lr = base.optim.options.find("lr");
  const double lr = a.finetune_lr > 0 ? a.finetune_lr
                    : run_lr          ? std::get<double>(run_lr->value) / 10.0
                                      : 0.01;
  const auto t_start = std::chrono::steady_clock::now();
  PruneLog log;
  Outcome dense = evaluate(trainer_from(base, src.checkpoint, src.path));
  log.eval(dense, "dense");
  if (a.max_drop) {
    SCULPT_CHECK(dense.trainer->splits().val.size() > 0, ConfigError,
                 "--max-drop chooses the sparsity on the validation split, and it is empty",
                 "data.val_fraction", "--set data.val_fraction=0.1 (the test split is never used)");
    SCULPT_CHECK(!dense.regression(), ConfigError,
                 "--max-drop counts points of accuracy, and a regression model has none",
                 "--max-drop", "prune to a fixed --sparsity and compare the losses");
  }
  fmt::print("dense:  {}  ({} parameters)\n", dense.scores(), dense.trainer->params().num_params());

  const io::Checkpoint& start = src.checkpoint;
  Outcome o = a.max_drop ? search_max_drop(src, a, start, dense.val.accuracy, lr, log)
                         : prune_rounds(src, a, start, a.sparsity.value_or(0.0), lr, log);
  o = maybe_surgery(src, a, std::move(o));

  RecipeConfig named = base;
  named.output.name = pruned_name(base, src);
  if (a.force && !a.out.empty()) clear_previous_run(a.out);
  const std::string dir = make_run_dir(named, src.path, a.out);
  write_outputs(dir, o, dense, log,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count());
  const int64_t params = o.trainer->params().num_params();
  const int64_t dense_params = dense.trainer->params().num_params();
  fmt::print("pruned: {}  ({} parameters{}, {:.1f}% of their weights masked)\n", o.scores(), params,
             params < dense_params
                 ? fmt::format(" after surgery, {:.1f}% fewer",
                               100.0 * double(dense_params - params) / double(dense_params))
                 : "",
             100.0 * o.trainer->sparsity());
  fmt::print("\n{}\nrun directory: {}\nevaluate with: {} eval --model {}\n",
             report::format_prune_table(o.trainer->prunable(), o.trainer->prune_stats()), dir,
             program_name(), dir);
  report_run(dir);
}

}  // namespace

void add_prune_sensitivity(CLI::App& prune);

void add_prune(CLI::App& app) {
  auto a = std::make_shared<PruneArgs>();
  CLI::App* sub = app.add_subcommand("prune", "Prune a trained model, fine-tune it, shrink it");
  add_checkpoint_option(sub, a->checkpoint);
  sub->add_option("--sparsity", a->sparsity, "Fraction of the weights to prune, in [0, 1)");
  sub->add_option("--threshold", a->threshold, "Prune entries scoring <= T (e.g. |w| <= T)");
  sub->add_option("--max-drop", a->max_drop,
                  "Largest sparsity within this many points of dense validation accuracy");
  sub->add_option("--criterion", a->cfg.criterion,
                  fmt::format("{}", fmt::join(prune::criterion_names(), " | ")))
      ->capture_default_str();
  for (const char* name : {"granularity", "scope"}) {
    const auto* field = find_field<prune::PruneConfig>(name);
    sub->add_option_function<std::string>(
           fmt::format("--{}", name),
           [a, name](const std::string& v) {
             set_field_text(a->cfg, name, v, fmt::format("prune.{}", name));
           },
           fmt::format("{}", fmt::join(field->spec.choices, " | ")))
        ->default_str(std::get<std::string>(field->get(a->cfg)));
  }
  sub->add_option("--n", a->cfg.n, "n:m: weights kept per group")->capture_default_str();
  sub->add_option("--m", a->cfg.m, "n:m: group size")->capture_default_str();
  sub->add_option("--exclude", a->cfg.exclude, "Comma-separated layers never pruned");
  sub->add_option("--layers", a->cfg.layers, "Per-layer sparsities (scope layer): fc1=0.9,...");
  sub->add_option("--batches", a->cfg.batches, "Batches gradient criteria sum over")
      ->capture_default_str();
  sub->add_option("--rounds", a->rounds, "Iterative pruning: rounds of prune + fine-tune")
      ->capture_default_str();
  sub->add_option("--finetune-epochs", a->finetune_epochs, "Fine-tuning epochs after each round")
      ->capture_default_str();
  sub->add_option("--finetune-lr", a->finetune_lr, "Fine-tuning rate (default: optim.lr / 10)");
  sub->add_flag("--rewind", a->rewind,
                "Lottery ticket: retrain from the weights kept at prune.rewind_step");
  sub->add_flag("--no-surgery", a->no_surgery, "Keep dead neurons/channels in place");
  sub->add_option("--out,-o", a->out, "Output run directory (default runs/<name>-pruned-<time>)");
  add_force_flag(sub, a->force);
  add_set_option(sub, a->sets);
  add_prune_sensitivity(*sub);  // registered first: run_selected runs it when it was parsed
  register_verb(sub, [a] {
    SCULPT_CHECK(!a->checkpoint.empty(), ConfigError, "--checkpoint is required", "sculpt prune",
                 "give a run directory or a checkpoint file");
    return run_prune(*a);
  });
}

}  // namespace sculpt::cli

// sculpt::Run (include/sculpt/run.h) over run::Run: what `sculpt train`, `prune`, `eval` and
// `export` do, for a C++ program.
#include <filesystem>

#include "api/impl.h"
#include "core/error.h"
#include "io/output_guard.h"
#include "run/run_dir.h"
#include "train/export.h"

namespace sculpt {

namespace {

Evaluation evaluation_of(const train::EvalResult& e) { return {e.loss, e.accuracy, e.samples}; }

StepRecord step_record(const train::StepEvent& e) {
  return {.epoch = e.epoch,
          .step = e.step,
          .step_in_epoch = e.step_in_epoch,
          .steps_per_epoch = e.steps_per_epoch,
          .loss = e.result.loss,
          .lr = e.result.lr,
          .grad_norm = e.result.clip.norm_before,
          .clipped = e.result.clip.clipped_any,
          .skipped = e.result.skipped,
          .sparsity = e.sparsity};
}

EpochRecord epoch_record(const train::EpochEvent& e) {
  return {.epoch = e.epoch,
          .step = e.step,
          .train_loss = e.train_loss,
          .train_accuracy = e.train_acc,
          .val = evaluation_of(e.val),
          .test = evaluation_of(e.test),
          .seconds = e.seconds,
          .samples_per_s = e.samples_per_s,
          .clipped_steps = e.clipped_steps,
          .skipped_steps = e.skipped,
          .grad_norm_mean = e.grad_norm_mean,
          .grad_norm_max = e.grad_norm_max,
          .sparsity = e.sparsity};
}

const data::Dataset& split_of(const data::Splits& s, const std::string& split) {
  if (split == "train") return s.train;
  if (split == "val") return s.val;
  if (split == "test") return s.test;
  throw ConfigError(fmt::format("split must be one of train | val | test, got \"{}\"", split));
}

}  // namespace

Run::Run(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Run::Run(Run&&) noexcept = default;
Run& Run::operator=(Run&&) noexcept = default;
Run::~Run() = default;

// A directory that is given must be new or empty, as for `sculpt train --out` without --force:
// a library call never mixes a run with files that were there.
Run Run::start(const Recipe& recipe, const std::string& dir) {
  const RecipeConfig& r = recipe.impl().config;
  if (!dir.empty()) io::check_run_dir(dir, {r.source, r.data.path, r.data.test_path}, false);
  return Run(std::make_unique<Impl>(Impl{run::Run::start(r, dir)}));
}

Run Run::resume(const std::string& dir, const std::vector<std::string>& overrides) {
  return Run(std::make_unique<Impl>(Impl{run::Run::resume(dir, overrides)}));
}

RunResult Run::train(const Callbacks& callbacks) {
  train::TrainHooks hooks;
  if (callbacks.on_step)
    hooks.on_step = [&](const train::StepEvent& e) { callbacks.on_step(step_record(e)); };
  if (callbacks.on_epoch)
    hooks.on_epoch = [&](const train::EpochEvent& e) { callbacks.on_epoch(epoch_record(e)); };
  const run::Outcome out = impl_->run->train(hooks);
  return {out.stopped, epoch_record(out.last), out.wall_seconds, out.samples_per_s};
}

void Run::request_stop() { impl_->run->request_stop(); }

// The settings are checked as recipe keys of [prune] ("prune.sparsity=0.9"), so a bad one gets
// the error and hint a recipe would.
double Run::prune(const std::vector<std::string>& settings) {
  train::Trainer& t = impl_->run->trainer();
  std::vector<std::string> overrides;
  for (const std::string& s : settings) overrides.push_back("prune." + s);
  const RecipeConfig& r = impl_->run->recipe();
  const RecipeConfig with = parse_recipe(to_toml(r), r.source, overrides);
  return t.prune_once(with.prune, t.splits().val);
}

Evaluation Run::evaluate(const std::string& split) {
  train::Trainer& t = impl_->run->trainer();
  return evaluation_of(t.evaluate_split(split_of(t.splits(), split)));
}

// The trainer holds the inputs standardised; they are given back as they were read.
Samples Run::samples(const std::string& split) const {
  const data::Splits& s = impl_->run->trainer().splits();
  return samples_of(split_of(s, split), s.norm_mean, s.norm_std);
}

ExportResult Run::export_model(const std::string& path, const ExportOptions& options) const {
  io::check_output_file({.path = path,
                         .option = "path",
                         .what = "export",
                         .begins = {"SCULPTMD"},
                         .inputs = {impl_->run->dir()}});
  const train::ExportSource ex =
      train::export_from_trainer(impl_->run->trainer(), impl_->run->dir(), options.surgery);
  infer::write_export(path, ex.model, {options.format, options.fp16});
  ExportResult out{.path = path};
  std::error_code ec;
  out.bytes = int64_t(std::filesystem::file_size(path, ec));
  for (const infer::ExportTensor& tensor : ex.model.tensors) {
    out.params += int64_t(tensor.values.size());
    for (float v : tensor.values) out.nonzeros += v != 0.0f;
  }
  return out;
}

std::string Run::write_report() const {
  run::write_report(impl_->run->dir());
  return (std::filesystem::path(impl_->run->dir()) / "report.html").string();
}

bool Run::complete() const {
  return impl_->run->trainer().epoch() >= impl_->run->recipe().train.epochs;
}

const std::string& Run::dir() const { return impl_->run->dir(); }
Recipe Run::recipe() const {
  return Recipe(std::make_unique<Recipe::Impl>(Recipe::Impl::of(impl_->run->recipe())));
}
int64_t Run::epoch() const { return impl_->run->trainer().epoch(); }
int64_t Run::step() const { return impl_->run->trainer().step(); }

ModelSummary Run::model() const {
  const train::Trainer& t = impl_->run->trainer();
  const nn::Model& m = t.model();
  const ParamStore& ps = t.params();
  ModelSummary out;
  out.input_shape = m.input_shape();
  out.weight_sparsity = t.sparsity();
  out.text = m.summary(ps);
  for (size_t i = 0; i < m.size(); ++i) {
    const nn::Layer& l = m.layer(i);
    LayerSummary row{
        .name = l.name(), .type = std::string(l.kind()), .output_shape = l.out_shape()};
    for (size_t k = 0; k < ps.count(); ++k) {
      if (ps.entry(k).name.rfind(l.name() + ".", 0) != 0 || !ps.entry(k).flags.trainable) continue;
      row.params += ps.entry(k).size;
      for (int64_t j = 0; j < ps.entry(k).size; ++j) row.nonzeros += ps.value(k)[j] != 0.0f;
    }
    out.params += row.params;
    out.nonzeros += row.nonzeros;
    out.layers.push_back(std::move(row));
  }
  return out;
}

}  // namespace sculpt

// Trainer: assembly of a run and the epoch loop around train_step.
#include "train/trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "core/error.h"
#include "core/limits.h"
#include "io/checkpoint.h"
#include "kernels/elementwise.h"
#include "loss/registry.h"

namespace sculpt::train {

namespace {

using Clock = std::chrono::steady_clock;
// Per-tensor gradient norms are measured on every 10th step of an epoch (one extra pass).
constexpr int64_t kTensorNormEvery = 10;

// Checks that the loss fits the data's task, e.g. bce needs binary labels.
void check_loss_fits(const std::string& loss, data::Task task) {
  const bool ok = (loss == "cross-entropy" && task == data::Task::kClassification) ||
                  (loss == "bce" && task == data::Task::kBinary) ||
                  (loss == "mse" && task == data::Task::kRegression);
  SCULPT_CHECK(ok, ConfigError, "loss '" + loss + "' does not fit the data's task", "train.loss",
               "use train.loss = \"auto\" to pick the loss from the data");
}

}  // namespace

nn::ModelSpec model_spec(const ModelConfig& cfg, int64_t outputs) {
  if (cfg.name == "custom") return cfg.custom;
  return nn::builtin_model(cfg.name, outputs);
}

std::string default_loss(data::Task task) {
  switch (task) {
    case data::Task::kClassification:
      return "cross-entropy";
    case data::Task::kBinary:
      return "bce";
    case data::Task::kRegression:
      return "mse";
  }
  return "mse";
}

Trainer::Trainer(Recipe recipe)
    : recipe_(std::move(recipe)),
      ctx_(RunContext::make(recipe_.train.seed, recipe_.train.threads)),
      splits_(data::load_splits(recipe_.data, ctx_.data_rng)) {
  const data::Dataset& train = splits_.train;
  SCULPT_CHECK(train.size() > 0, DataError, "the training set is empty", recipe_.source,
               "check data.path and data.limit_train");
  model_ = nn::Model::build(model_spec(recipe_.model, train.outputs()), train.sample_shape);
  SCULPT_CHECK(model_.outputs() == train.outputs(), ShapeError,
               "the model produces " + std::to_string(model_.outputs()) +
                   " outputs but the data needs " + std::to_string(train.outputs()),
               "model", "make the last layer's `out` equal the number of classes/targets");
  model_.declare(params_);
  params_.finalize();
  model_.init(params_, ctx_.init_rng);
  const int64_t max_batch = std::max(recipe_.train.batch_size, recipe_.train.eval_batch_size);
  model_.reserve(std::min(max_batch, std::max<int64_t>(train.size(), splits_.test.size())));
  dlogits_.assign(static_cast<size_t>(model_.max_batch() * model_.outputs()), 0.0f);

  const std::string loss =
      recipe_.train.loss == "auto" ? default_loss(train.task) : recipe_.train.loss;
  check_loss_fits(loss, train.task);
  loss_ = loss::make_loss(loss);
  optimizer_ = optim::make_optimizer(recipe_.optim, params_);
  batcher_ = std::make_unique<data::Batcher>(train, recipe_.train.batch_size, &ctx_.data_rng);
  // Step arithmetic (schedules, pruning ramps, checkpoints) must not overflow.
  SCULPT_CHECK(recipe_.train.epochs <= kMaxSteps / steps_per_epoch(), ConfigError,
               fmt::format("train.epochs = {} of {} steps each is more than the limit of 2^40 "
                           "steps",
                           recipe_.train.epochs, steps_per_epoch()),
               "train.epochs", "a run this long would never end; train fewer epochs");
  schedule_ = std::make_unique<sched::Schedule>(sched::make_schedule(
      recipe_.schedule, optimizer_->base_lr(),
      {.steps_per_epoch = steps_per_epoch(), .total_steps = total_steps()}));
  if (schedule_->cycles_momentum()) {
    momentum_ = optimizer_->momentum_slot();
    SCULPT_CHECK(momentum_, ConfigError,
                 fmt::format("schedule '{}' cycles the momentum, but optimizer '{}' has none",
                             recipe_.schedule.name, optimizer_->kind()),
                 "schedule.cycle_momentum",
                 "set optim.momentum (e.g. 0.9), use an Adam-family optimizer, or set "
                 "schedule.cycle_momentum = false");
    default_momentum_ = *momentum_;
  }
  clipper_ = clip::make_clipper(recipe_.clip);
  tensor_sumsq_.assign(params_.count(), 0.0);
  dropout_key_ = ctx_.dropout_rng.next_u64();
  setup_pruning();
}

StepParts Trainer::step_parts(const sched::Schedule& schedule) {
  return StepParts{
      .model = model_,
      .params = params_,
      .loss = *loss_,
      .optimizer = *optimizer_,
      .schedule = schedule,
      .clipper = *clipper_,
      .masks = masks_,
      .task = splits_.train.task,
      .nonfinite = recipe_.train.nonfinite == "skip" ? NonFinite::kSkip : NonFinite::kStop,
      .dlogits = dlogits_.data(),
      .momentum = momentum_,
      .default_momentum = default_momentum_};
}

uint64_t Trainer::dropout_key(int64_t micro) const {
  return dropout_key_ ^ (static_cast<uint64_t>(step_) * 0x9E3779B97F4A7C15ull) ^
         (static_cast<uint64_t>(micro) * 0xD1B54A32D192ED03ull);
}

void Trainer::count_skip(const StepResult& r) {
  if (!r.skipped) {
    skips_in_a_row_ = 0;
    return;
  }
  if (++skips_in_a_row_ >= recipe_.train.max_skips)
    throw NumericError(fmt::format("{}, {} steps in a row", r.nonfinite, skips_in_a_row_),
                       fmt::format("step {}", step_), kNonFiniteHint);
}

EpochEvent Trainer::train_epoch(const TrainHooks& hooks) {
  StepParts parts = step_parts(*schedule_);
  const int64_t group = recipe_.train.accumulate;  // micro-batches per step
  const double nominal = static_cast<double>(group * recipe_.train.batch_size);
  const int64_t batches = batcher_->batches_per_epoch();
  EpochEvent ev;
  ev.epoch = ++epoch_;
  StepEvent se;
  se.epoch = ev.epoch;
  se.steps_per_epoch = steps_per_epoch();
  // The epoch's counts live in progress_ so that a checkpoint from a step hook carries them;
  // a checkpoint taken inside this epoch continues from its own.
  EpochProgress& p = progress_;
  p = resume_progress_.value_or(EpochProgress{});
  p.tensor_sums.resize(params_.count(), 0.0);
  if (resume_progress_) skips_in_a_row_ = p.skips_in_a_row;
  const double seconds_before = p.seconds;
  epoch_rng_ = ctx_.data_rng.state();
  in_epoch_ = true;
  prune_at_start();
  const auto t0 = Clock::now();
  batcher_->start_epoch();
  if (resume_progress_)
    batcher_->skip_to(std::min(p.batches * batcher_->batch_size(), splits_.train.size()));
  resume_progress_.reset();
  se.step_in_epoch = p.steps_in_epoch;
  data::Batch b;
  for (int64_t i = p.batches; batcher_->next(b); ++i) {
    // Micro-batch i % group of this step; the step ends with its group or the epoch.
    const int64_t micro = i % group;
    if (micro == 0) {
      begin_step(parts);
      se.samples = 0;
      se.result = {};
    }
    const double weight = group == 1 ? 1.0 : static_cast<double>(b.n) / nominal;
    const MicroResult m = accumulate(parts, b, weight, dropout_key(micro));
    se.result.loss += m.loss * static_cast<double>(b.n);
    se.result.correct += m.correct;
    se.samples += b.n;
    if (micro + 1 < group && i + 1 < batches) continue;

    const double n = static_cast<double>(se.samples);
    const double grad_scale = group == 1 ? 1.0 : nominal / n;
    const int64_t step_correct = se.result.correct;
    const bool sampled = se.step_in_epoch % kTensorNormEvery == 0;
    parts.tensor_sumsq = sampled ? tensor_sumsq_.data() : nullptr;
    se.result = finish_step(parts, se.result.loss / n, grad_scale, step_);
    se.result.correct = step_correct;
    count_skip(se.result);
    if (se.result.skipped) {
      ++p.skipped;
    } else {
      ++step_;
      ++p.steps;
      se.sparsity = after_step();
      const double norm = se.result.clip.norm_before;
      p.grad_norm_sum += norm;
      p.grad_norm_max = std::max(p.grad_norm_max, norm);
      p.clipped_steps += se.result.clip.clipped_any;
      if (sampled) {
        for (size_t t = 0; t < p.tensor_sums.size(); ++t) p.tensor_sums[t] += tensor_sumsq_[t];
        ++p.sampled_steps;
      }
    }
    p.loss_sum += se.result.loss * n;
    p.correct += step_correct;
    p.samples += se.samples;
    p.batches = i + 1;
    p.steps_in_epoch = ++se.step_in_epoch;
    p.skips_in_a_row = skips_in_a_row_;
    p.seconds = seconds_before + std::chrono::duration<double>(Clock::now() - t0).count();
    se.step = step_;
    if (hooks.on_step) hooks.on_step(se);
  }
  in_epoch_ = false;
  ev.seconds = seconds_before + std::chrono::duration<double>(Clock::now() - t0).count();
  ev.steps = p.steps;
  ev.skipped = p.skipped;
  ev.clipped_steps = p.clipped_steps;
  ev.grad_norm_max = p.grad_norm_max;
  if (p.steps > 0) ev.grad_norm_mean = p.grad_norm_sum / static_cast<double>(p.steps);
  for (size_t t = 0; t < p.tensor_sums.size() && p.sampled_steps > 0; ++t)
    ev.tensor_grad_norms.emplace_back(params_.entry(t).name,
                                      std::sqrt(p.tensor_sums[t] / double(p.sampled_steps)));
  ev.step = step_;
  ev.train_loss = p.loss_sum / static_cast<double>(p.samples);
  ev.train_acc = static_cast<double>(p.correct) / static_cast<double>(p.samples);
  ev.samples_per_s = static_cast<double>(p.samples) / ev.seconds;
  ev.sparsity = sparsity();
  return ev;
}

EvalResult Trainer::evaluate_split(const data::Dataset& ds) {
  return evaluate(model_, params_, *loss_, ds, recipe_.train.eval_batch_size);
}

EpochEvent Trainer::run(const TrainHooks& hooks) {
  EpochEvent ev;
  while (epoch_ < recipe_.train.epochs) {
    ev = train_epoch(hooks);
    if (epoch_ == recipe_.train.epochs) {
      prune_at_end();
      ev.sparsity = sparsity();
    }
    ev.val = evaluate_split(splits_.val);
    ev.test = evaluate_split(splits_.test);
    ev.lr_reduced = observe_epoch(ev);
    if (hooks.on_epoch) hooks.on_epoch(ev);
  }
  return ev;
}

bool Trainer::observe_epoch(const EpochEvent& ev) {
  if (!schedule_->watches()) return false;
  const std::string& m = schedule_->metric();
  const double value = m == "val_loss"     ? ev.val.loss
                       : m == "val_acc"    ? ev.val.accuracy
                       : m == "train_loss" ? ev.train_loss
                                           : ev.train_acc;
  return schedule_->observe(value);
}

void Trainer::save_checkpoint(const std::string& path) const {
  // A diverged update can overflow a weight; such a model is never written (the previous
  // checkpoint stays as it was).
  SCULPT_CHECK(kernels::all_finite(params_.values().data(), params_.arena_size()), NumericError,
               fmt::format("the weights hold NaN or infinity after step {}; not saved", step_), path,
               "lower optim.lr or enable clipping; the previous checkpoint is kept");
  std::vector<io::NamedTensor> tensors = io::param_tensors(params_);
  for (const optim::StateArray& s : optimizer_->state()) {
    for (const ParamEntry& e : params_.entries())
      tensors.push_back({"opt." + s.name + "." + e.name, e.shape, s.data->data() + e.offset});
  }
  prune_tensors(tensors);
  std::map<std::string, std::string> meta{
      {"recipe", to_toml(recipe_)},
      {"model", recipe_.model.name},
      {"optimizer", std::string(optimizer_->kind())},
      {"norm_mean", fmt::format("{}", splits_.norm_mean)},
      {"norm_std", fmt::format("{}", splits_.norm_std)},
  };
  // Inside an epoch (from a step hook) the epoch is not complete yet, and its order is rebuilt
  // from the stream as it was before the epoch's shuffle.
  put_state({.epoch = in_epoch_ ? epoch_ - 1 : epoch_,
             .step = step_,
             .data_rng = in_epoch_ ? epoch_rng_ : ctx_.data_rng.state(),
             .dropout_rng = ctx_.dropout_rng.state(),
             .dropout_key = dropout_key_,
             .plateau = schedule_->watches()
                            ? std::optional<sched::PlateauState>(schedule_->plateau_state())
                            : std::nullopt,
             .clip = clipper_->state(),
             .progress = in_epoch_ ? std::optional<EpochProgress>(progress_) : std::nullopt},
            meta);
  io::save_checkpoint(path, tensors, meta);
}

TrainState Trainer::check_checkpoint(const io::Checkpoint& ck, const std::string& where) const {
  const TrainState state = get_state(ck.metadata, where);
  auto meta = [&](const std::string& key) {
    auto it = ck.metadata.find(key);
    return it == ck.metadata.end() ? std::string() : it->second;
  };

  std::vector<io::TensorSpec> expected;
  for (const ParamEntry& e : params_.entries()) expected.push_back({e.name, e.shape});
  std::vector<std::string> run_states;
  for (const optim::StateArray& s : optimizer_->state()) {
    run_states.push_back(s.name);
    for (const ParamEntry& e : params_.entries())
      expected.push_back({"opt." + s.name + "." + e.name, e.shape});
  }
  expect_prune_tensors(ck, expected, where);
  // A criterion statistic this run does not use (e.g. fine-tuning after movement pruning).
  const io::TensorMismatch mismatch = io::compare_tensors(
      ck, expected, [](const std::string& name) { return name.starts_with("prune.stat."); });
  auto is_state = [](const std::string& n) { return n.starts_with("opt."); };
  const bool state_differs =
      std::any_of(mismatch.missing.begin(), mismatch.missing.end(), is_state) ||
      std::any_of(mismatch.unexpected.begin(), mismatch.unexpected.end(), is_state);
  std::string hint = "was it saved from a different model or recipe?";
  if (state_differs) {
    // State names hold no dots ("exp_avg"), parameter names may ("fc1.weight").
    std::set<std::string> ck_states;
    for (const auto& [name, t] : ck.tensors)
      if (is_state(name)) ck_states.insert(name.substr(4, name.find('.', 4) - 4));
    const std::string ck_optim = meta("optimizer");
    hint = fmt::format(
        "the checkpoint holds the state of {} ({}), this run's optimizer '{}' keeps {}; resume "
        "with the optimizer the run was trained with",
        ck_optim.empty() ? "another optimizer" : "optimizer '" + ck_optim + "'",
        ck_states.empty() ? "none" : fmt::format("{}", fmt::join(ck_states, ", ")),
        optimizer_->kind(),
        run_states.empty() ? "none" : fmt::format("{}", fmt::join(run_states, ", ")));
  }
  mismatch.throw_if_any("the checkpoint does not match this run", where, hint);

  const int64_t per_epoch = steps_per_epoch();
  const int64_t epochs_begun = state.epoch + (state.progress ? 1 : 0);  // <= kMaxSteps + 1
  SCULPT_CHECK(state.step <= mul_sat(epochs_begun, per_epoch), DataError,
               fmt::format("the checkpoint's step {} is beyond {} epochs of {} steps", state.step,
                           epochs_begun, per_epoch),
               where, "the training data or batch size differ from the run's");
  if (const auto& p = state.progress) {
    SCULPT_CHECK(p->batches <= batcher_->batches_per_epoch() &&
                     p->tensor_sums.size() == params_.count() && state.epoch < recipe_.train.epochs,
                 DataError,
                 fmt::format("the checkpoint's position in epoch {} ({} batches of {}, {} tensor "
                             "norms for {} tensors) does not fit this run",
                             state.epoch + 1, p->batches, batcher_->batches_per_epoch(),
                             p->tensor_sums.size(), params_.count()),
                 where, "the training data or batch size differ from the run's");
  }
  const std::string mean = fmt::format("{}", splits_.norm_mean);
  const std::string sd = fmt::format("{}", splits_.norm_std);
  SCULPT_CHECK(meta("norm_mean") == mean && meta("norm_std") == sd, DataError,
               fmt::format("the training data differs from the checkpoint's: input mean/std {}/{} "
                           "in the checkpoint, {}/{} now",
                           meta("norm_mean"), meta("norm_std"), mean, sd),
               where, "the data at data.path changed since the run started");

  const std::string saved_toml = meta("recipe");
  SCULPT_CHECK(!saved_toml.empty(), DataError, "the checkpoint has no recipe in its metadata",
               where, "resume a run directory written by `sculpt train`");
  const Recipe saved = parse_recipe(saved_toml, where + " (recipe)");
  SCULPT_CHECK(state.epoch <= saved.train.epochs, DataError,
               fmt::format("the checkpoint says {} epochs are done, but its own recipe has "
                           "train.epochs = {}",
                           state.epoch, saved.train.epochs),
               where, "the file was changed after `sculpt train` wrote it");
  const std::vector<std::string> diff = recipe_differences(saved, recipe_);
  SCULPT_CHECK(diff.empty(), ConfigError,
               fmt::format("the recipe differs from the one the checkpoint was trained with, so "
                           "this would not be the same run: {}",
                           fmt::join(diff, ", ")),
               where,
               "a resume may change only train.epochs and output.*; start a new run to "
               "change anything else");
  SCULPT_CHECK(state.plateau.has_value() || !schedule_->watches(), DataError,
               "the checkpoint holds no reduce-on-plateau state", where,
               "it was saved by an older Sculpt; start a new run");
  if (saved.train.epochs != recipe_.train.epochs && sched::depends_on_run_length(recipe_.schedule))
    throw ConfigError(
        fmt::format("train.epochs cannot change on resume ({} -> {}): schedule '{}' spans the "
                    "whole run, so its every rate would change",
                    saved.train.epochs, recipe_.train.epochs, recipe_.schedule.name),
        where, "set the schedule's length explicitly (e.g. schedule.total) in a new run");
  if (saved.train.epochs != recipe_.train.epochs && recipe_.prune.when == "gradual" &&
      (recipe_.prune.end == 0.0 || recipe_.prune.unit == "run"))
    throw ConfigError(
        fmt::format("train.epochs cannot change on resume ({} -> {}): {}, so every mask update "
                    "would move",
                    saved.train.epochs, recipe_.train.epochs,
                    recipe_.prune.unit == "run"
                        ? "the pruning ramp is given in fractions of the run (prune.unit = \"run\")"
                        : "the pruning ramp ends at two thirds of the run (prune.end = 0)"),
        where, "give prune.start and prune.end in epochs (prune.unit = \"epoch\") in a new run");
  return state;
}

void Trainer::restore(const io::Checkpoint& ck, const std::string& where) {
  const TrainState state = check_checkpoint(ck, where);
  auto copy = [&](const std::string& name, float* dst) {
    const std::vector<float>& src = ck.find(name)->data;
    std::copy(src.begin(), src.end(), dst);
  };
  for (size_t i = 0; i < params_.count(); ++i) copy(params_.entry(i).name, params_.value(i));
  for (const optim::StateArray& s : optimizer_->state())
    for (const ParamEntry& e : params_.entries())
      copy("opt." + s.name + "." + e.name, s.data->data() + e.offset);
  epoch_ = state.epoch;
  step_ = state.step;
  ctx_.data_rng.set_state(state.data_rng);
  ctx_.dropout_rng.set_state(state.dropout_rng);
  dropout_key_ = state.dropout_key;
  if (state.plateau) schedule_->set_plateau_state(*state.plateau);
  clipper_->set_state(state.clip);
  restore_prune_tensors(ck);
  resume_progress_ = state.progress;
}

Trainer::Snapshot Trainer::snapshot() const {
  Snapshot s;
  const std::span<const float> values = params_.values();
  s.params.assign(values.begin(), values.end());
  for (const optim::StateArray& a : optimizer_->state()) s.optimizer_state.push_back(*a.data);
  s.momentum = momentum_ ? *momentum_ : 0.0;
  s.epoch = epoch_;
  s.step = step_;
  s.data_rng = ctx_.data_rng.state();
  return s;
}

void Trainer::restore(const Snapshot& s) {
  const std::vector<optim::StateArray> state = optimizer_->state();
  SCULPT_CHECK(
      s.params.size() == params_.values().size() && s.optimizer_state.size() == state.size(),
      ConfigError, "the snapshot was taken from another trainer", "Trainer::restore",
      "restore a snapshot into the trainer that took it");
  std::copy(s.params.begin(), s.params.end(), params_.values().begin());
  for (size_t i = 0; i < state.size(); ++i) *state[i].data = s.optimizer_state[i];
  if (momentum_) *momentum_ = s.momentum;
  epoch_ = s.epoch;
  step_ = s.step;
  ctx_.data_rng.set_state(s.data_rng);
}

int64_t Trainer::train_steps(int64_t max_steps, const sched::Schedule& schedule,
                             const std::function<bool(const StepResult&)>& keep_going) {
  StepParts parts = step_parts(schedule);
  batcher_->start_epoch();
  data::Batch b;
  int64_t done = 0;
  while (done < max_steps) {
    if (!batcher_->next(b)) {
      batcher_->start_epoch();
      continue;
    }
    const StepResult r = train_step(parts, b, step_, dropout_key(0));
    if (!r.skipped) ++step_;
    ++done;
    if (!keep_going(r)) break;
  }
  return done;
}

}  // namespace sculpt::train

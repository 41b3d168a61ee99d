// Trainer: assembly of a run and the epoch loop around train_step.
#include "train/trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"
#include "core/fields.h"
#include "core/limits.h"
#include "loss/registry.h"
#include "nn/layers/linear.h"

namespace sculpt::train {

namespace {

using Clock = std::chrono::steady_clock;
// Per-tensor gradient norms are measured on every 10th step of an epoch (one extra pass).
constexpr int64_t kTensorNormEvery = 10;

// The one loss each task takes: what "auto" picks, and the only one check_loss_fits accepts.
constexpr Choice<data::Task> kTaskLosses[] = {{data::Task::kClassification, "cross-entropy"},
                                              {data::Task::kBinary, "bce"},
                                              {data::Task::kRegression, "mse"}};

// Checks that the loss fits the data's task, e.g. bce needs binary labels.
void check_loss_fits(const std::string& loss, data::Task task) {
  SCULPT_CHECK(loss == default_loss(task), ConfigError,
               "loss '" + loss + "' does not fit the data's task", "train.loss",
               "use train.loss = \"auto\" to pick the loss from the data");
}

}  // namespace

nn::ModelSpec resolve_for_data(nn::ModelSpec spec, const data::Dataset& train) {
  for (nn::LayerSpec& l : spec.layers)
    if (l.type == "embedding" && l.args.emplace("vocab", 0.0).first->second == 0.0)
      l.args["vocab"] = static_cast<double>(train.num_classes);
  if (!spec.layers.empty()) {
    nn::LayerSpec& last = spec.layers.back();
    if (last.type == "linear" && last.args.count("out") && last.args["out"] == 0.0)
      last.args["out"] = static_cast<double>(train.outputs());
  }
  return spec;
}

nn::ModelSpec model_spec(const ModelConfig& cfg, int64_t outputs) {
  if (cfg.name == "custom") return cfg.custom;
  return nn::builtin_model(cfg.name, outputs);
}

std::string default_loss(data::Task task) { return std::string(text_in(kTaskLosses, task)); }

Trainer::Trainer(RecipeConfig recipe)
    : recipe_(std::move(recipe)),
      ctx_(RunContext::make(recipe_.train.seed, recipe_.train.threads)),
      splits_(data::load_splits(recipe_.data, ctx_.data_rng)) {
  const data::Dataset& train = splits_.train;
  SCULPT_CHECK(train.size() > 0, DataError, "the training set is empty", recipe_.source,
               "check data.path and data.limit_train");
  // Sizes a recipe leaves to the data (vocab = 0, the last layer's out = 0) become numbers here;
  // a resume, an export or a prune of the run reads the same data and gets the same ones.
  if (recipe_.model.name == "custom")
    recipe_.model.custom = resolve_for_data(std::move(recipe_.model.custom), train);
  model_ = nn::Model::build(model_spec(recipe_.model, train.outputs()), train.sample_shape);
  SCULPT_CHECK(
      model_.outputs() == train.outputs() * train.positions, ShapeError,
      "the model produces " + std::to_string(model_.outputs()) + " outputs but the data needs " +
          (train.positions > 1
               ? fmt::format("{} ({} per position of {})", train.outputs() * train.positions,
                             train.outputs(), train.positions)
               : std::to_string(train.outputs())),
      "model", "make the last layer's `out` equal the number of classes/targets");
  model_.declare(params_);
  params_.finalize();
  model_.init(params_, ctx_.init_rng);
  const int64_t max_batch = std::max(recipe_.train.batch_size, recipe_.train.eval_batch_size);
  fp32_layers_ = model_.set_precision(recipe_.train.precision);
  model_.reserve(std::min(max_batch, std::max<int64_t>(train.size(), splits_.test.size())));
  describe_precision();
  dlogits_.assign(static_cast<size_t>(model_.max_batch() * model_.outputs()), 0.0f);

  const std::string loss =
      recipe_.train.loss == "auto" ? default_loss(train.task) : recipe_.train.loss;
  check_loss_fits(loss, train.task);
  loss_ = loss::make_loss(loss);
  optimizer_ = optim::make_optimizer(recipe_.optim, params_);
  batcher_ = std::make_unique<data::Batcher>(train, recipe_.train.batch_size, &ctx_.data_rng);
  setup_tbptt();  // train.tbptt: stream order (fewer batches), before the step arithmetic
  // Step arithmetic (schedules, pruning ramps, checkpoints) must not overflow.
  SCULPT_CHECK(recipe_.train.epochs <= kMaxSteps / steps_per_epoch(), ConfigError,
               fmt::format("train.epochs = {} of {} steps each is more than the limit of 2^40 "
                           "steps",
                           recipe_.train.epochs, steps_per_epoch()),
               "train.epochs", "a run this long would never end; train fewer epochs");
  schedule_ = std::make_unique<sched::Schedule>(
      sched::make_schedule(recipe_.schedule, optimizer_->base_lr(),
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

void Trainer::describe_precision() {
  if (recipe_.train.precision == Precision::kFp32) return;
  for (size_t i = 0; i < model_.size(); ++i)
    if (const auto* linear = dynamic_cast<const nn::Linear*>(&model_.layer(i))) {
      precision_path_ = "bf16 products: " + linear->bf16_path(recipe_.train.batch_size);
      return;
    }
  precision_path_ = "bf16 requested, but no layer has a bf16 path: all of it runs in fp32";
}

StepParts Trainer::step_parts(const sched::Schedule& schedule) {
  return StepParts{.model = model_,
                   .params = params_,
                   .loss = *loss_,
                   .optimizer = *optimizer_,
                   .schedule = schedule,
                   .clipper = *clipper_,
                   .masks = masks_,
                   .task = splits_.train.task,
                   .nonfinite = recipe_.train.nonfinite,
                   .dlogits = dlogits_.data(),
                   .momentum = momentum_,
                   .default_momentum = default_momentum_,
                   .accumulate = recipe_.train.accumulate,
                   .batch_size = recipe_.train.batch_size,
                   .dropout_seed = dropout_key_};
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
  EpochEvent ev;
  ev.epoch = ++epoch_;
  StepEvent se;
  se.epoch = ev.epoch;
  se.steps_per_epoch = steps_per_epoch();
  // The epoch's counts live in progress_ so that a checkpoint from a step hook carries them;
  // a checkpoint taken inside this epoch continues from its own (always between steps).
  EpochProgress& p = progress_;
  p = resume_progress_.value_or(EpochProgress{});
  p.tensor_sums.resize(params_.count(), 0.0);
  if (resume_progress_) skips_in_a_row_ = p.skips_in_a_row;
  const double seconds_before = p.seconds;
  epoch_rng_ = ctx_.data_rng.state();
  in_epoch_ = true;
  prune_at_start();
  start_carry();  // train.tbptt: zero, or a mid-epoch checkpoint's state
  const auto t0 = Clock::now();
  batcher_->start_epoch();
  if (resume_progress_)
    batcher_->skip_to(std::min(p.batches * batcher_->batch_size(), batcher_->samples_per_epoch()));
  resume_progress_.reset();
  se.step_in_epoch = p.steps_in_epoch;
  while (true) {
    const bool sampled = se.step_in_epoch % kTensorNormEvery == 0;
    parts.tensor_sumsq = sampled ? tensor_sumsq_.data() : nullptr;
    se.result = step_batches(parts, *batcher_, step_);
    if (se.result.batches == 0) break;
    se.samples = se.result.samples;
    se.sparsity = -1.0;
    count_skip(se.result);
    if (se.result.skipped) {
      ++p.skipped;
    } else {
      ++step_;
      se.sparsity = after_step();
      add_step(p, se.result, sampled);
    }
    p.loss_sum += se.result.loss * static_cast<double>(se.samples);
    p.correct += se.result.correct;
    p.samples += se.samples;
    p.batches += se.result.batches;
    p.steps_in_epoch = ++se.step_in_epoch;
    p.skips_in_a_row = skips_in_a_row_;
    p.seconds = seconds_before + std::chrono::duration<double>(Clock::now() - t0).count();
    se.step = step_;
    if (hooks.on_step) hooks.on_step(se);
  }
  in_epoch_ = false;
  ev.seconds = seconds_before + std::chrono::duration<double>(Clock::now() - t0).count();
  epoch_summary(p, ev);
  return ev;
}

void Trainer::add_step(EpochProgress& p, const StepResult& r, bool sampled) const {
  ++p.steps;
  const double norm = r.clip.norm_before;
  p.grad_norm_sum += norm;
  p.grad_norm_max = std::max(p.grad_norm_max, norm);
  p.clipped_steps += r.clip.clipped_any;
  if (!sampled) return;
  for (size_t t = 0; t < p.tensor_sums.size(); ++t) p.tensor_sums[t] += tensor_sumsq_[t];
  ++p.sampled_steps;
}

void Trainer::epoch_summary(const EpochProgress& p, EpochEvent& ev) const {
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
  ev.train_acc =
      static_cast<double>(p.correct) / static_cast<double>(p.samples * splits_.train.positions);
  ev.samples_per_s = static_cast<double>(p.samples) / ev.seconds;
  ev.sparsity = sparsity();
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
  start_carry();
  int64_t done = 0;
  while (done < max_steps) {
    const StepResult r = step_batches(parts, *batcher_, step_);
    if (r.batches == 0) {  // the training set is never empty (the constructor checks)
      batcher_->start_epoch();
      start_carry();
      continue;
    }
    if (!r.skipped) ++step_;
    ++done;
    if (!keep_going(r)) break;
  }
  return done;
}

}  // namespace sculpt::train

// A run's checkpoints: save, verify and restore (exact resume), fine-tuning from another run's
// weights, and the pruning tensors they carry. The metadata encoding of the training state is
// in checkpoint_state.cpp; the layout in docs/formats.md.
#include "train/checkpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/error.h"
#include "core/limits.h"
#include "kernels/elementwise.h"
#include "train/trainer.h"

namespace sculpt::train {

namespace {

bool has_prefix(const io::Checkpoint& ck, const std::string& prefix) {
  auto it = ck.tensors.lower_bound(prefix);
  return it != ck.tensors.end() && it->first.starts_with(prefix);
}

// The masks "mask.<param>" of ck. The padding between tensors is not in the file; it stays 1
// as Masks::init leaves it, so a restored mask equals the saved run's bit for bit.
void load_masks(const ParamStore& ps, const io::Checkpoint& ck, Masks& masks) {
  masks.init(ps);
  for (const ParamEntry& e : ps.entries()) {
    const std::vector<float>& src = ck.find("mask." + e.name)->data;
    std::copy(src.begin(), src.end(), masks.keep().begin() + e.offset);
  }
}

}  // namespace

void Trainer::save_checkpoint(const std::string& path) const {
  // A diverged update can overflow a weight; such a model is never written (the previous
  // checkpoint stays as it was).
  SCULPT_CHECK(kernels::all_finite(params_.values().data(), params_.arena_size()), NumericError,
               fmt::format("the weights hold NaN or infinity after step {}; not saved", step_),
               path, "lower optim.lr or enable clipping; the previous checkpoint is kept");
  std::vector<io::NamedTensor> tensors = io::param_tensors(params_);
  for (const optim::StateArray& s : optimizer_->state()) {
    for (const ParamEntry& e : params_.entries())
      tensors.push_back({"opt." + s.name + "." + e.name, e.shape, s.data->data() + e.offset});
  }
  prune_tensors(tensors);
  carry_tensors(tensors);
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

namespace {

std::string metadata(const io::Checkpoint& ck, const std::string& key) {
  auto it = ck.metadata.find(key);
  return it == ck.metadata.end() ? std::string() : it->second;
}

}  // namespace

TrainState Trainer::check_checkpoint(const io::Checkpoint& ck, const std::string& where) const {
  const TrainState state = get_state(ck.metadata, where);
  check_tensors(ck, where);
  check_position(state, where);
  const RecipeConfig saved = check_same_run(ck, state, where);
  check_epochs_change(saved, where);
  check_carry(ck, state, where);
  return state;
}

void Trainer::check_tensors(const io::Checkpoint& ck, const std::string& where) const {
  std::vector<io::TensorSpec> expected;
  for (const ParamEntry& e : params_.entries()) expected.push_back({e.name, e.shape});
  std::vector<std::string> run_states;
  for (const optim::StateArray& s : optimizer_->state()) {
    run_states.push_back(s.name);
    for (const ParamEntry& e : params_.entries())
      expected.push_back({"opt." + s.name + "." + e.name, e.shape});
  }
  expect_prune_tensors(ck, expected, where);
  // A criterion statistic this run does not use (e.g. fine-tuning after movement pruning); the
  // carried recurrent state (train.tbptt) is checked by check_carry.
  const io::TensorMismatch mismatch =
      io::compare_tensors(ck, expected, [](const std::string& name) {
        return name.starts_with("prune.stat.") || name.starts_with("carry.");
      });
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
    const std::string ck_optim = metadata(ck, "optimizer");
    hint = fmt::format(
        "the checkpoint holds the state of {} ({}), this run's optimizer '{}' keeps {}; resume "
        "with the optimizer the run was trained with",
        ck_optim.empty() ? "another optimizer" : "optimizer '" + ck_optim + "'",
        ck_states.empty() ? "none" : fmt::format("{}", fmt::join(ck_states, ", ")),
        optimizer_->kind(),
        run_states.empty() ? "none" : fmt::format("{}", fmt::join(run_states, ", ")));
  }
  mismatch.throw_if_any("the checkpoint does not match this run", where, hint);
}

void Trainer::check_position(const TrainState& state, const std::string& where) const {
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
}

RecipeConfig Trainer::check_same_run(const io::Checkpoint& ck, const TrainState& state,
                                     const std::string& where) const {
  const std::string mean = fmt::format("{}", splits_.norm_mean);
  const std::string sd = fmt::format("{}", splits_.norm_std);
  SCULPT_CHECK(metadata(ck, "norm_mean") == mean && metadata(ck, "norm_std") == sd, DataError,
               fmt::format("the training data differs from the checkpoint's: input mean/std {}/{} "
                           "in the checkpoint, {}/{} now",
                           metadata(ck, "norm_mean"), metadata(ck, "norm_std"), mean, sd),
               where, "the data at data.path changed since the run started");

  const std::string saved_toml = metadata(ck, "recipe");
  SCULPT_CHECK(!saved_toml.empty(), DataError, "the checkpoint has no recipe in its metadata",
               where, "resume a run directory written by `sculpt train`");
  const RecipeConfig saved = parse_recipe(saved_toml, where + " (recipe)");
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
  return saved;
}

void Trainer::check_epochs_change(const RecipeConfig& saved, const std::string& where) const {
  if (saved.train.epochs != recipe_.train.epochs && sched::depends_on_run_length(recipe_.schedule))
    throw ConfigError(
        fmt::format("train.epochs cannot change on resume ({} -> {}): schedule '{}' spans the "
                    "whole run, so its every rate would change",
                    saved.train.epochs, recipe_.train.epochs, recipe_.schedule.name),
        where, "set the schedule's length explicitly (e.g. schedule.total) in a new run");
  if (saved.train.epochs != recipe_.train.epochs && recipe_.prune.when == prune::When::kGradual &&
      (recipe_.prune.end == 0.0 || recipe_.prune.unit == prune::RampUnit::kRun))
    throw ConfigError(
        fmt::format("train.epochs cannot change on resume ({} -> {}): {}, so every mask update "
                    "would move",
                    saved.train.epochs, recipe_.train.epochs,
                    recipe_.prune.unit == prune::RampUnit::kRun
                        ? "the pruning ramp is given in fractions of the run (prune.unit = \"run\")"
                        : "the pruning ramp ends at two thirds of the run (prune.end = 0)"),
        where, "give prune.start and prune.end in epochs (prune.unit = \"epoch\") in a new run");
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
  restore_carry(ck, state);
  // Right predictions are counted per position (a text window scores each of its tokens).
  SCULPT_CHECK(!state.progress ||
                   state.progress->correct <= state.progress->samples * splits_.train.positions,
               DataError,
               fmt::format("the epoch in progress counts {} right predictions in {} samples",
                           state.progress ? state.progress->correct : 0,
                           state.progress ? state.progress->samples : 0),
               where, "resume from an intact checkpoint, e.g. the run's last.safetensors");
  resume_progress_ = state.progress;
}

void Trainer::load_weights(const io::Checkpoint& ck, const std::string& where, bool rewind) {
  std::vector<io::TensorSpec> masks;
  expect_prune_tensors(ck, masks, where);  // checks that masks are 0/1
  std::erase_if(masks, [](const io::TensorSpec& t) { return !t.name.starts_with("mask."); });
  io::compare_tensors(ck, masks, [](const std::string& n) { return !n.starts_with("mask."); })
      .throw_if_any("the checkpoint's masks do not match the model", where,
                    "was it saved from a different model?");
  io::Checkpoint source;
  if (rewind) {
    SCULPT_CHECK(has_prefix(ck, "rewind."), DataError, "the checkpoint holds no rewind weights",
                 where, "train with prune.rewind_step = K to keep the weights of step K");
    for (const auto& [name, t] : ck.tensors)
      if (name.starts_with("rewind.")) source.tensors[name.substr(7)] = t;
  }
  io::restore_params(params_, rewind ? source : ck, where);
  optimizer_->init(params_, optimizer_->settings());  // fresh state
  if (!masks.empty()) {
    load_masks(params_, ck, masks_);
    masks_.apply_to_weights(params_);
    optimizer_->on_mask_change(masks_);
  }
}

void Trainer::prune_tensors(std::vector<io::NamedTensor>& out) const {
  auto add = [&](const std::string& prefix, const float* base) {
    for (const ParamEntry& e : params_.entries())
      out.push_back({prefix + e.name, e.shape, base + e.offset});
  };
  if (!masks_.empty()) add("mask.", masks_.keep_data());
  if (pruner_ && !pruner_->stat().empty()) add("prune.stat.", pruner_->stat().data());
  if (!rewind_.empty()) add("rewind.", rewind_.data());
}

void Trainer::expect_prune_tensors(const io::Checkpoint& ck, std::vector<io::TensorSpec>& out,
                                   const std::string& where) const {
  auto add = [&](const std::string& prefix) {
    for (const ParamEntry& e : params_.entries()) out.push_back({prefix + e.name, e.shape});
  };
  for (const auto& [name, t] : ck.tensors) {
    if (!name.starts_with("mask.")) continue;
    const bool binary =
        std::all_of(t.data.begin(), t.data.end(), [](float k) { return k == 0.0f || k == 1.0f; });
    SCULPT_CHECK(binary, DataError, fmt::format("mask '{}' holds values other than 0 and 1", name),
                 where, "the file is damaged; use an earlier checkpoint");
  }
  if (has_prefix(ck, "mask.")) add("mask.");
  if (pruner_ && !pruner_->stat().empty() && has_prefix(ck, "prune.stat.")) add("prune.stat.");
  if (has_prefix(ck, "rewind.")) add("rewind.");
}

void Trainer::load_tensors(const io::Checkpoint& ck, const std::string& prefix,
                           AlignedVector<float>& dst) const {
  dst.assign(static_cast<size_t>(params_.arena_size()), 0.0f);
  for (const ParamEntry& e : params_.entries()) {
    const std::vector<float>& src = ck.find(prefix + e.name)->data;
    std::copy(src.begin(), src.end(), dst.begin() + e.offset);
  }
}

void Trainer::restore_prune_tensors(const io::Checkpoint& ck) {
  if (has_prefix(ck, "mask.")) load_masks(params_, ck, masks_);
  if (pruner_ && !pruner_->stat().empty() && has_prefix(ck, "prune.stat."))
    load_tensors(ck, "prune.stat.", pruner_->stat());
  if (has_prefix(ck, "rewind.")) load_tensors(ck, "rewind.", rewind_);
}

io::Checkpoint weights_of(const Trainer& t) {
  io::Checkpoint ck;
  const ParamStore& ps = t.params();
  const float* keep = t.masks().empty() ? nullptr : t.masks().keep_data();
  for (const ParamEntry& e : ps.entries()) {
    const float* w = ps.values().data() + e.offset;
    ck.tensors[e.name] = {e.shape, std::vector<float>(w, w + e.size)};
    if (keep)
      ck.tensors["mask." + e.name] = {
          e.shape, std::vector<float>(keep + e.offset, keep + e.offset + e.size)};
  }
  return ck;
}

}  // namespace sculpt::train

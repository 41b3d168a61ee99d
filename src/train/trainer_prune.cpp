// The trainer's pruning: gradual mask updates between steps, SNIP before the first step, one
// shot after the last epoch or on demand (sculpt prune), and the pruning state in checkpoints.
#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
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

void Trainer::setup_pruning() {
  prunable_ = prune::prunable_layers(model_, params_);
  const prune::PruneConfig& cfg = recipe_.prune;
  if (cfg.rewind_step == 0) rewind_.assign(params_.values().begin(), params_.values().end());
  if (cfg.when == "none") return;
  pruner_ = std::make_unique<prune::Pruner>(cfg, prunable_, params_, steps_per_epoch(),
                                            total_steps(), recipe_.train.seed);
  masks_.init(params_);
}

void Trainer::score_batches(prune::Pruner& pruner, const data::Dataset& ds, int64_t batches) {
  if (pruner.criterion().needs() == prune::Needs::kWeights) return;
  SCULPT_CHECK(ds.size() > 0, DataError,
               fmt::format("criterion '{}' needs gradients, but the scoring split is empty",
                           pruner.criterion().info().name),
               "prune.criterion", "set data.val_fraction > 0, or use criterion = \"magnitude\"");
  StepParts parts = step_parts(*schedule_);
  data::Batcher batcher(ds, recipe_.train.batch_size, nullptr);
  data::Batch b;
  for (int64_t i = 0; i < batches && batcher.next(b); ++i) {
    begin_step(parts);
    accumulate(parts, b, 1.0, dropout_key(i));
    pruner.observe(params_);
  }
  params_.zero_grads();
}

double Trainer::prune_once(const prune::PruneConfig& cfg, const data::Dataset& scoring) {
  prune::Pruner pruner(cfg, prunable_, params_, steps_per_epoch(), total_steps(),
                       recipe_.train.seed);
  if (masks_.empty()) masks_.init(params_);
  score_batches(pruner, scoring, cfg.batches);
  pruner.prune(params_, cfg.sparsity, masks_);
  optimizer_->on_mask_change(masks_);
  return sparsity();
}

void Trainer::prune_at_start() {
  if (!pruner_ || recipe_.prune.when != "snip" || step_ != 0) return;
  score_batches(*pruner_, splits_.train, recipe_.prune.batches);
  pruner_->prune(params_, recipe_.prune.sparsity, masks_);
  optimizer_->on_mask_change(masks_);
}

void Trainer::prune_at_end() {
  if (!pruner_ || recipe_.prune.when != "at-end") return;
  score_batches(*pruner_, splits_.val, recipe_.prune.batches);
  pruner_->prune(params_, recipe_.prune.sparsity, masks_);
  optimizer_->on_mask_change(masks_);
}

double Trainer::after_step() {
  if (recipe_.prune.rewind_step > 0 && step_ == recipe_.prune.rewind_step)
    rewind_.assign(params_.values().begin(), params_.values().end());
  if (!pruner_) return -1.0;
  if (pruner_->observes_steps()) pruner_->observe(params_);
  if (!pruner_->due(step_)) return -1.0;
  pruner_->prune(params_, pruner_->target(step_), masks_);
  optimizer_->on_mask_change(masks_);
  return sparsity();
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

std::vector<prune::LayerStats> Trainer::prune_stats() const {
  return prune::layer_stats(prunable_, params_, masks_);
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
    const bool binary = std::all_of(t.data.begin(), t.data.end(),
                                    [](float k) { return k == 0.0f || k == 1.0f; });
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
      ck.tensors["mask." + e.name] = {e.shape,
                                      std::vector<float>(keep + e.offset, keep + e.offset + e.size)};
  }
  return ck;
}

}  // namespace sculpt::train

// The trainer's pruning: gradual mask updates between steps, SNIP before the first step, one
// shot after the last epoch or on demand (sculpt prune). Its state in checkpoints is in
// checkpoint.cpp.
#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "train/trainer.h"

namespace sculpt::train {

void Trainer::setup_pruning() {
  prunable_ = prune::prunable_structure(model_, params_);
  const prune::PruneConfig& cfg = recipe_.prune;
  if (cfg.rewind_step == 0) rewind_.assign(params_.values().begin(), params_.values().end());
  if (cfg.when == prune::When::kNone) return;
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
  set_carry(false);  // scoring batches are independent windows (train.tbptt)
  for (int64_t i = 0; i < batches && batcher.next(b); ++i) {
    begin_step(parts);
    accumulate(parts, b, 1.0, dropout_key(dropout_key_, step_, i));
    pruner.observe(params_);
  }
  set_carry(true);
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
  if (!pruner_ || recipe_.prune.when != prune::When::kSnip || step_ != 0) return;
  score_batches(*pruner_, splits_.train, recipe_.prune.batches);
  pruner_->prune(params_, recipe_.prune.sparsity, masks_);
  optimizer_->on_mask_change(masks_);
}

void Trainer::prune_at_end() {
  if (!pruner_ || recipe_.prune.when != prune::When::kAtEnd) return;
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

std::vector<prune::LayerStats> Trainer::prune_stats() const {
  return prune::layer_stats(prunable_.layers, params_, masks_);
}

}  // namespace sculpt::train

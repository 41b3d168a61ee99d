// One training step over one batch, in the order ARCHITECTURE.md fixes (see step.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "clip/clipper.h"
#include "core/masks.h"
#include "core/param_store.h"
#include "data/batcher.h"
#include "data/dataset.h"
#include "io/recipe.h"
#include "loss/loss.h"
#include "nn/model.h"
#include "optim/optimizer.h"
#include "sched/schedule.h"

namespace sculpt::train {

using sculpt::NonFinite;  // train.nonfinite (io/recipe.h)

// Everything a step touches; owned by the trainer, sized once.
struct StepParts {
  nn::Model& model;
  ParamStore& params;
  loss::Loss& loss;
  optim::Optimizer& optimizer;
  const sched::Schedule& schedule;
  clip::Clipper& clipper;
  Masks& masks;
  data::Task task;
  NonFinite nonfinite = NonFinite::kStop;
  float* dlogits = nullptr;  // workspace [max_batch, outputs]
  // When the schedule cycles momentum: the optimizer's coefficient (Optimizer::momentum_slot)
  // and its configured value, used where the schedule gives none (e.g. during warmup).
  double* momentum = nullptr;
  double default_momentum = 0.0;
  // When set, finish_step stores each tensor's sum of squared gradients (before clipping,
  // masked entries zeroed) here, one per ParamStore entry: per-layer telemetry.
  double* tensor_sumsq = nullptr;
  // Micro-batches per optimizer step (train.accumulate), the nominal batch size they are
  // weighed by, and the run's dropout seed (dropout_key mixes in the step and micro-batch).
  int64_t accumulate = 1;
  int64_t batch_size = 0;
  uint64_t dropout_seed = 0;
  // The step's one pass over the gradients (mask, measure, and so check), reused every step.
  clip::ArenaNorms norms{};
};

struct StepResult {
  double loss = 0.0;    // mean over the batch
  int64_t correct = 0;  // classification/binary: samples predicted right
  double lr = 0.0;
  double momentum = 0.0;  // the momentum/beta1 used, when the schedule cycles it
  clip::ClipReport clip;
  bool skipped = false;   // non-finite loss or gradients under NonFinite::kSkip
  std::string nonfinite;  // what was non-finite, when skipped
  int64_t samples = 0;    // step_batches: in all the step's micro-batches
  int64_t batches = 0;    // step_batches: micro-batches taken (0: the epoch had none left)
};

inline constexpr const char* kNonFiniteHint =
    "lower optim.lr, enable clipping ([clip] name = \"global-norm\"), check the data for NaN, "
    "or set train.nonfinite = \"skip\"";

// A step over N micro-batches (gradient accumulation) is begin_step, N x accumulate, then
// finish_step; train_step is the one-batch case. With weights n_i / (N * batch_size) and
// grad_scale = N * batch_size / sum(n_i) (1 unless the epoch's last group is short), the
// gradient is that of the mean loss over all the samples, as one batch of them would give.

// Zeroes the gradients.
void begin_step(StepParts& s);

struct MicroResult {
  double loss = 0.0;  // mean over the micro-batch
  int64_t correct = 0;
};
// Forward and backward of one micro-batch; its mean-loss gradient, times `weight`, is added to
// the gradients. `key` seeds its dropout.
MicroResult accumulate(StepParts& s, const data::Batch& batch, double weight, uint64_t key);

// Scales the accumulated gradients by grad_scale, then: non-finite check, mask, clip, rate,
// optimizer, mask. `loss` is the step's mean loss (for the check and the result); `step`
// counts optimizer updates from 0. A non-finite loss or gradient never reaches the weights:
// kStop throws NumericError naming the step and the first tensor with a NaN/Inf gradient (and
// whether the loss itself was non-finite); kSkip returns skipped = true with that message.
StepResult finish_step(StepParts& s, double loss, double grad_scale, int64_t step);

// One optimizer step over the next s.accumulate batches of `batcher` (fewer when the epoch ends
// first): the whole step, micro-batches included, for the epoch loop and lr-find alike. The
// result's loss and correct count cover all its samples. Returns batches == 0, with nothing
// done, when the epoch has no batch left.
StepResult step_batches(StepParts& s, data::Batcher& batcher, int64_t step);

// The dropout key of micro-batch `micro` of optimizer step `step`.
uint64_t dropout_key(uint64_t seed, int64_t step, int64_t micro);

// One step over one batch; `key` seeds its dropout.
StepResult train_step(StepParts& s, const data::Batch& batch, int64_t step, uint64_t key);

// Samples whose prediction is right: argmax for classification, logit > 0 for binary, 0 for
// regression.
int64_t count_correct(const float* logits, const data::Batch& batch, int64_t k, data::Task task);

}  // namespace sculpt::train

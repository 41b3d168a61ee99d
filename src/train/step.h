// One training step over one batch, in the order ARCHITECTURE.md fixes (see step.cpp).
#pragma once

#include <cstdint>

#include "clip/clipper.h"
#include "core/param_store.h"
#include "data/batcher.h"
#include "data/dataset.h"
#include "loss/loss.h"
#include "nn/model.h"
#include "optim/optimizer.h"
#include "prune/mask.h"
#include "sched/schedule.h"

namespace sculpt::train {

enum class NonFinite { kStop, kSkip };

// Everything a step touches; owned by the trainer, sized once.
struct StepParts {
  nn::Model& model;
  ParamStore& params;
  loss::Loss& loss;
  optim::Optimizer& optimizer;
  const sched::Schedule& schedule;
  clip::Clipper& clipper;
  prune::Masks& masks;
  data::Task task;
  NonFinite nonfinite = NonFinite::kStop;
  float* dlogits = nullptr;  // workspace [max_batch, outputs]
  // When the schedule cycles momentum: the optimizer's coefficient (Optimizer::momentum_slot)
  // and its configured value, used where the schedule gives none (e.g. during warmup).
  double* momentum = nullptr;
  double default_momentum = 0.0;
};

struct StepResult {
  double loss = 0.0;    // mean over the batch
  int64_t correct = 0;  // classification/binary: samples predicted right
  double lr = 0.0;
  double momentum = 0.0;  // the momentum/beta1 used, when the schedule cycles it
  clip::ClipReport clip;
  bool skipped = false;  // non-finite gradients under NonFinite::kSkip
};

// Runs one step. `step` counts optimizer updates from 0; `key` seeds this step's dropout.
// Throws NumericError naming the first parameter with a non-finite gradient (kStop).
StepResult train_step(StepParts& s, const data::Batch& batch, int64_t step, uint64_t key);

// Samples whose prediction is right: argmax for classification, logit > 0 for binary, 0 for
// regression.
int64_t count_correct(const float* logits, const data::Batch& batch, int64_t k, data::Task task);

}  // namespace sculpt::train

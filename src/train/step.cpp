// THE training step: read it top to bottom. Every stage is one call, in this order:
//   zero grads -> forward -> loss -> backward -> non-finite check -> clip -> mask grads ->
//   learning rate -> optimizer -> mask weights.
// Later stages (gradient accumulation, pruning updates, checkpoints) hang off the trainer.
#include "train/step.h"

#include <cmath>

#include "core/error.h"
#include "kernels/elementwise.h"

namespace sculpt::train {

namespace {

// Names the first tensor holding a NaN or infinity (only called when the fast check failed).
std::string blame_nonfinite(const ParamStore& ps) {
  for (size_t i = 0; i < ps.count(); ++i) {
    const float* g = ps.grad(i);
    for (int64_t j = 0; j < ps.entry(i).size; ++j)
      if (!std::isfinite(g[j])) return ps.entry(i).name;
  }
  return "?";
}

loss::Targets targets_of(const data::Batch& b) { return {.labels = b.labels, .values = b.y}; }

}  // namespace

StepResult train_step(StepParts& s, const data::Batch& batch, int64_t step, uint64_t key) {
  StepResult r;
  const int64_t k = s.model.outputs();

  s.params.zero_grads();
  const float* logits =
      s.model.forward(s.params, batch.x, batch.n, {.mode = nn::Mode::kTrain, .key = key});
  r.loss = s.loss.forward(logits, targets_of(batch), batch.n, k, s.dlogits);
  r.correct = count_correct(logits, batch, k, s.task);
  s.model.backward(s.params, batch.x, s.dlogits, batch.n);

  if (!std::isfinite(r.loss) ||
      !kernels::all_finite(s.params.grads().data(), s.params.arena_size())) {
    if (s.nonfinite == NonFinite::kSkip) {
      r.skipped = true;
      return r;
    }
    throw NumericError("non-finite gradient in '" + blame_nonfinite(s.params) + "' (loss " +
                           std::to_string(r.loss) + ")",
                       "step " + std::to_string(step),
                       "lower optim.lr, check the data for NaN, or set train.nonfinite = \"skip\"");
  }

  r.clip = s.clipper.apply(s.params);
  s.masks.apply_to_grads(s.params);
  r.lr = s.schedule.at(step);
  if (s.momentum) r.momentum = *s.momentum = s.schedule.momentum_at(step).value_or(s.default_momentum);
  s.optimizer.step(s.params, r.lr, step);
  s.masks.apply_to_weights(s.params);
  return r;
}

int64_t count_correct(const float* logits, const data::Batch& b, int64_t k, data::Task task) {
  if (task == data::Task::kRegression || !b.labels) return 0;
  int64_t correct = 0;
  for (int64_t i = 0; i < b.n; ++i) {
    const float* row = logits + i * k;
    int64_t pred = 0;
    if (task == data::Task::kBinary) {
      pred = row[0] > 0.0f ? 1 : 0;
    } else {
      for (int64_t j = 1; j < k; ++j)
        if (row[j] > row[pred]) pred = j;
    }
    correct += pred == b.labels[i];
  }
  return correct;
}

}  // namespace sculpt::train

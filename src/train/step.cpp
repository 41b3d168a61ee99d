// THE training step: read it top to bottom. Every stage is one call, in this order:
//   zero grads -> (forward -> loss -> backward) per micro-batch, gradients adding up ->
//   non-finite check and mask grads (one pass) -> clip -> learning rate (and momentum) ->
//   optimizer and mask weights (one pass).
// step_batches is that step over the next train.accumulate batches; pruning updates and
// checkpoints hang off the trainer.
#include "train/step.h"

#include <algorithm>
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
  return "";
}

std::string nonfinite_message(const ParamStore& ps, bool loss_finite) {
  const std::string tensor = blame_nonfinite(ps);
  if (tensor.empty()) return "the loss is non-finite (the gradients are finite)";
  return "non-finite gradient in '" + tensor + "'" +
         (loss_finite ? " (the loss is finite)" : " (the loss itself is non-finite)");
}

loss::Targets targets_of(const data::Batch& b) { return {.labels = b.labels, .values = b.y}; }

}  // namespace

void begin_step(StepParts& s) { s.params.zero_grads(); }

MicroResult accumulate(StepParts& s, const data::Batch& batch, double weight, uint64_t key) {
  // Logits per row: a sequence model scores `positions` rows per sample.
  const int64_t rows = batch.rows(), k = s.model.outputs() / batch.positions;
  MicroResult m;
  const float* logits =
      s.model.forward(s.params, batch.x, batch.n, {.mode = nn::Mode::kTrain, .key = key});
  m.loss = s.loss.forward(logits, targets_of(batch), rows, k, s.dlogits);
  m.correct = count_correct(logits, batch, k, s.task);
  if (weight != 1.0) kernels::scale(s.dlogits, rows * k, static_cast<float>(weight));
  s.model.backward(s.params, batch.x, s.dlogits, batch.n);
  return m;
}

StepResult finish_step(StepParts& s, double loss, double grad_scale, int64_t step) {
  StepResult r;
  r.loss = loss;
  float* g = s.params.grads().data();
  if (grad_scale != 1.0) kernels::scale(g, s.params.arena_size(), static_cast<float>(grad_scale));

  // One pass masks the gradients (pruned weights get none) and measures them: a NaN or
  // infinity anywhere makes the sum of squares non-finite. The clipper reuses the sums.
  const bool loss_finite = std::isfinite(loss);
  s.norms.prepare(s.params);
  s.norms.mask_and_measure(g, s.masks.empty() ? nullptr : s.masks.bytes());
  if (!std::isfinite(s.norms.total().sumsq) || !loss_finite) {
    r.skipped = true;
    r.nonfinite = nonfinite_message(s.params, loss_finite);
    if (s.nonfinite == NonFinite::kSkip) return r;
    throw NumericError(r.nonfinite, "step " + std::to_string(step), kNonFiniteHint);
  }

  if (s.tensor_sumsq) {
    std::fill_n(s.tensor_sumsq, s.params.count(), 0.0);
    const auto sums = s.norms.sums();
    for (size_t b = 0; b < sums.size(); ++b)
      s.tensor_sumsq[s.norms.blocks()[b].tensor] += sums[b].sumsq;
  }
  r.clip = s.clipper.apply_measured(s.params, s.norms);
  r.lr = s.schedule.at(step);
  if (s.momentum)
    r.momentum = *s.momentum = s.schedule.momentum_at(step).value_or(s.default_momentum);
  s.optimizer.step(s.params, r.lr, step, &s.masks);  // masks the weights in its pass
  return r;
}

StepResult step_batches(StepParts& s, data::Batcher& batcher, int64_t step) {
  const double nominal = static_cast<double>(s.accumulate * s.batch_size);
  double loss_sum = 0.0;
  int64_t correct = 0, samples = 0, micro = 0;
  data::Batch b;
  for (; micro < s.accumulate && batcher.next(b); ++micro) {
    if (micro == 0) begin_step(s);
    const double weight = s.accumulate == 1 ? 1.0 : static_cast<double>(b.n) / nominal;
    const MicroResult m = accumulate(s, b, weight, dropout_key(s.dropout_seed, step, micro));
    loss_sum += m.loss * static_cast<double>(b.n);
    correct += m.correct;
    samples += b.n;
  }
  if (micro == 0) return {};
  const double n = static_cast<double>(samples);
  // 1 unless the epoch's last group is short (see above).
  const double grad_scale = s.accumulate == 1 ? 1.0 : nominal / n;
  StepResult r = finish_step(s, loss_sum / n, grad_scale, step);
  r.correct = correct;
  r.samples = samples;
  r.batches = micro;
  return r;
}

uint64_t dropout_key(uint64_t seed, int64_t step, int64_t micro) {
  return seed ^ (static_cast<uint64_t>(step) * 0x9E3779B97F4A7C15ull) ^
         (static_cast<uint64_t>(micro) * 0xD1B54A32D192ED03ull);
}

StepResult train_step(StepParts& s, const data::Batch& batch, int64_t step, uint64_t key) {
  begin_step(s);
  const MicroResult m = accumulate(s, batch, 1.0, key);
  StepResult r = finish_step(s, m.loss, 1.0, step);
  r.correct = m.correct;
  return r;
}

int64_t count_correct(const float* logits, const data::Batch& b, int64_t k, data::Task task) {
  if (task == data::Task::kRegression || !b.labels) return 0;
  int64_t correct = 0;
  for (int64_t i = 0; i < b.rows(); ++i) {
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

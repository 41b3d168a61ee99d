// Evaluation over a dataset in fixed order, batch by batch.
#include "train/evaluate.h"

#include <algorithm>

#include "data/batcher.h"
#include "nn/layers/recurrent.h"
#include "train/step.h"

namespace sculpt::train {

namespace {

// Every recurrent layer's eval forwards continue their state (on) or start from zero (off); the
// state is zero either way.
void stream_recurrent(nn::Model& model, bool on) {
  for (size_t i = 0; i < model.size(); ++i)
    if (auto* r = dynamic_cast<nn::Recurrent*>(&model.layer(i))) {
      r->stream_state(on);
      r->reset_state();
    }
}

}  // namespace

EvalResult evaluate(nn::Model& model, ParamStore& ps, loss::Loss& loss, const data::Dataset& ds,
                    int64_t batch_size, bool streams) {
  EvalResult r;
  if (ds.size() == 0) return r;
  data::Batcher batcher(ds, std::min(batch_size, model.max_batch()), /*rng=*/nullptr);
  if (streams) {
    batcher.use_streams(/*keep_all=*/true);
    stream_recurrent(model, true);
  }
  batcher.start_epoch();
  const int64_t k = model.outputs() / ds.positions;  // logits per row
  double loss_sum = 0.0;
  int64_t correct = 0;
  data::Batch b;
  while (batcher.next(b)) {
    const float* logits = model.forward(ps, b.x, b.n, {.mode = nn::Mode::kEval});
    loss_sum += loss.forward(logits, {.labels = b.labels, .values = b.y}, b.rows(), k, nullptr) *
                static_cast<double>(b.n);
    correct += count_correct(logits, b, k, ds.task);
    r.samples += b.n;
  }
  if (streams) stream_recurrent(model, false);
  r.loss = loss_sum / static_cast<double>(r.samples);
  r.accuracy = static_cast<double>(correct) / static_cast<double>(r.samples * ds.positions);
  return r;
}

}  // namespace sculpt::train

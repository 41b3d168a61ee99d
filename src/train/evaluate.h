// Evaluation: mean loss and accuracy of a model over a whole dataset, in eval mode.
#pragma once

#include <cstdint>

#include "core/param_store.h"
#include "data/dataset.h"
#include "loss/loss.h"
#include "nn/model.h"

namespace sculpt::train {

struct EvalResult {
  double loss = 0.0;      // mean over samples
  double accuracy = 0.0;  // fraction in [0, 1]; 0 for regression
  int64_t samples = 0;
};

// Requires model.max_batch() >= min(batch_size, ds.size()). Allocates nothing per batch.
// streams (text windows, a model trained with train.tbptt): the windows in stream order
// (data::Batcher::use_streams, every window kept) and every recurrent layer continuing from the
// state its stream's previous window left, zero at the start; the layers' carried state is
// zero afterwards. Otherwise every window starts from zero.
EvalResult evaluate(nn::Model& model, ParamStore& ps, loss::Loss& loss, const data::Dataset& ds,
                    int64_t batch_size, bool streams = false);

}  // namespace sculpt::train

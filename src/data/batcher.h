// Batcher: walks a dataset in mini-batches, shuffled each epoch with the run's RNG. Samples are
// gathered into buffers allocated once, so next() never allocates. The last batch of an epoch
// may be partial (as PyTorch's DataLoader with drop_last=False). In stream order (truncated
// backpropagation through time over text windows) the samples are never shuffled: see
// use_streams().
#pragma once

#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "data/dataset.h"

namespace sculpt::data {

struct Batch {
  const float* x = nullptr;         // [n, sample...]
  const int32_t* labels = nullptr;  // [n, positions] (classification/binary) or nullptr
  const float* y = nullptr;         // [n, k] (regression) or nullptr
  int64_t n = 0;
  int64_t positions = 1;  // labels per sample (next-token text: the window length)
  int64_t rows() const { return n * positions; }  // predictions the batch's labels score
};

class Batcher {
 public:
  // rng == nullptr: fixed order (evaluation). Requires batch_size > 0 (ConfigError otherwise).
  Batcher(const Dataset& ds, int64_t batch_size, Rng* rng);

  // Starts a new epoch (reshuffles when an rng was given). The order depends only on the rng
  // state at this call: it restarts from the identity permutation before shuffling.
  void start_epoch();
  // Fills `b` with the next batch; false at the end of the epoch. The first call starts the
  // first epoch if start_epoch() was not called. The pointers in `b` stay valid until the
  // next call to next(); they point into buffers owned by the Batcher (64-byte aligned).
  bool next(Batch& b);
  // Resume: after start_epoch(), skips the first `samples` samples of the epoch's order.
  void skip_to(int64_t samples);
  // Stream order, for truncated backpropagation through time: the N samples (consecutive text
  // windows) are cut into B = batch_size contiguous streams of L = N / B samples, and batch k
  // holds sample k of every stream (sample s * L + k in slot s), so slot s of batch k + 1
  // continues slot s of batch k. Every epoch takes the same order (no rng is used); the last
  // N - B * L samples are left out (no partial batch). ConfigError when N < B.
  // With keep_all (evaluation) every sample is visited: B = min(batch_size, N) streams, the
  // first N mod B of them one sample longer, so the last batch is partial and holds slots
  // 0..N mod B - 1, which continue their streams as before.
  void use_streams(bool keep_all = false);
  bool streams() const { return streams_; }

  // Samples an epoch visits: all of them, or B * L in stream order without keep_all.
  int64_t samples_per_epoch() const { return static_cast<int64_t>(order_.size()); }
  int64_t batches_per_epoch() const {
    return samples_per_epoch() / batch_ + (samples_per_epoch() % batch_ != 0);
  }
  int64_t batch_size() const { return batch_; }
  // Position within the epoch, in samples (for resume).
  int64_t cursor() const { return cursor_; }

 private:
  const Dataset& ds_;
  int64_t batch_;
  Rng* rng_;
  std::vector<int64_t> order_;
  int64_t cursor_ = 0;
  bool started_ = false, streams_ = false;
  AlignedVector<float> x_, y_;
  std::vector<int32_t> labels_;
};

}  // namespace sculpt::data

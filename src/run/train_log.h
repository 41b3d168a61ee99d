// metrics.jsonl records of a training run, built from the trainer's events: steps (logged
// without allocating), epochs, mask updates and the end record with the final counts that the
// run report's summary and per-layer tables read.
#pragma once

#include <cstdint>
#include <vector>

#include "prune/select.h"
#include "report/metrics.h"
#include "train/trainer.h"

namespace sculpt::run {

// Every step with a clipper (its norms are the telemetry); else about 500 records per run, at
// least every 50th step, so that short runs still have a learning-rate curve.
int64_t step_log_interval(int64_t total_steps, bool clips);

// Writes the step records ("step", or "skip" for a dropped step) and the mask updates
// ("prune", with the sparsity of every layer). One record is reused and its extras created up
// front: a logged step allocates nothing.
class StepLog {
 public:
  StepLog(report::MetricsWriter& out, const train::Trainer& trainer, bool regression);
  void operator()(const train::StepEvent& e);

 private:
  report::MetricsWriter& out_;
  const train::Trainer& trainer_;
  bool regression_, clips_, momentum_;
  int64_t positions_;  // predictions per sample
  int64_t every_;
  report::MetricsRecord step_;
  double* clip_norm_ = nullptr;
  double* momentum_value_ = nullptr;
};

// Per layer `sparsity.<layer>`, `params.<layer>`, `kept.<layer>` extras.
void add_layer_extras(report::MetricsRecord& r, const std::vector<prune::LayerStats>& layers);

// The epoch record: splits, the rate of the next step, gradient telemetry, clip rate, sparsity.
report::MetricsRecord epoch_record(const train::EpochEvent& e, const train::Trainer& t,
                                   bool regression);

// The model's size in `r`: extras `params` and `nonzero` (parameters that are not 0) and, when
// it has masks, the weight sparsity and the per-layer extras.
void add_model_counts(report::MetricsRecord& r, const train::Trainer& t);

// The end record: the last epoch's scores with the wall time, training samples/s, the number
// of parameters and of non-zero ones, and the per-layer counts when the run pruned.
report::MetricsRecord end_record(const train::EpochEvent& last, const train::Trainer& t,
                                 bool regression, double wall_s, double samples_per_s);

}  // namespace sculpt::run

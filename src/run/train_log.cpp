// Records of metrics.jsonl from trainer events (see train_log.h).
#include "run/train_log.h"

#include <algorithm>

namespace sculpt::run {

int64_t step_log_interval(int64_t total_steps, bool clips) {
  return clips ? 1 : std::clamp<int64_t>(total_steps / 500, 1, 50);
}

StepLog::StepLog(report::MetricsWriter& out, const train::Trainer& trainer, bool regression)
    : out_(out),
      trainer_(trainer),
      regression_(regression),
      clips_(trainer.clips()),
      momentum_(trainer.schedule().cycles_momentum()),
      positions_(trainer.splits().train.positions),
      every_(step_log_interval(trainer.total_steps(), trainer.clips())) {
  step_.event = "step";
  if (clips_) clip_norm_ = &step_.extra["clip_norm"];
  if (momentum_) momentum_value_ = &step_.extra["momentum"];
}

void StepLog::operator()(const train::StepEvent& e) {
  if (e.sparsity >= 0.0) {  // a mask update: rare, may allocate
    report::MetricsRecord p{.event = "prune", .step = e.step, .epoch = e.epoch};
    p.sparsity = e.sparsity;
    add_layer_extras(p, trainer_.prune_stats());
    out_.write(p);
  }
  if (e.step % every_ != 0) return;
  // Right predictions per position (text windows score every token).
  const double acc =
      !regression_ && e.samples ? double(e.result.correct) / double(e.samples * positions_) : 0;
  if (e.result.skipped) {
    report::MetricsRecord r{
        .event = "skip", .step = e.step, .epoch = e.epoch, .loss = e.result.loss};
    if (!regression_ && e.samples) r.train_acc = acc;
    out_.write(r);
    return;
  }
  step_.step = e.step;
  step_.epoch = e.epoch;
  step_.loss = e.result.loss;
  if (!regression_ && e.samples)
    step_.train_acc = acc;
  else
    step_.train_acc.reset();
  step_.lr = e.result.lr;
  step_.grad_norm = e.result.clip.norm_before;
  if (clips_) {
    step_.clipped = e.result.clip.clipped;
    *clip_norm_ = e.result.clip.norm_after;
  }
  if (momentum_) *momentum_value_ = e.result.momentum;
  out_.write(step_);
}

void add_layer_extras(report::MetricsRecord& r, const std::vector<prune::LayerStats>& layers) {
  for (const prune::LayerStats& s : layers) {
    r.extra["sparsity." + s.name] = s.sparsity();
    r.extra["params." + s.name] = double(s.params);
    r.extra["kept." + s.name] = double(s.kept);
  }
}

report::MetricsRecord epoch_record(const train::EpochEvent& e, const train::Trainer& t,
                                   bool regression) {
  report::MetricsRecord r = report::MetricsWriter::epoch_record("epoch", e, !regression);
  const sched::Schedule& schedule = t.schedule();
  r.lr = schedule.at(e.step);  // the rate the next step uses
  r.grad_norm = e.grad_norm_mean;
  r.extra["grad_norm_max"] = e.grad_norm_max;
  if (t.clips()) r.extra["clip_rate"] = e.steps ? double(e.clipped_steps) / double(e.steps) : 0.0;
  if (e.skipped) r.extra["skipped"] = double(e.skipped);
  for (const auto& [name, norm] : e.tensor_grad_norms) r.extra["grad_norm." + name] = norm;
  if (!t.masks().empty()) r.extra["sparsity"] = e.sparsity;
  if (schedule.watches()) {
    r.extra["lr_scale"] = schedule.plateau_state().scale;
    if (e.lr_reduced) r.extra["lr_reduced"] = 1;
  }
  return r;
}

report::MetricsRecord end_record(const train::EpochEvent& last, const train::Trainer& t,
                                 bool regression, double wall_s, double samples_per_s) {
  report::MetricsRecord r = report::MetricsWriter::epoch_record("end", last, !regression);
  r.time_s = wall_s;
  r.samples_per_s = samples_per_s;
  add_model_counts(r, t);
  return r;
}

void add_model_counts(report::MetricsRecord& r, const train::Trainer& t) {
  r.extra["params"] = double(t.params().num_params());
  r.extra["nonzero"] = double(t.params().num_nonzero());
  if (!t.masks().empty()) {
    r.sparsity = t.sparsity();
    add_layer_extras(r, t.prune_stats());
  }
}

}  // namespace sculpt::run

// The optimizer base: per-tensor settings, the per-step scalars of each decay style, and
// mask-driven state clearing.
#include "optim/optimizer.h"

#include "core/error.h"
#include "core/masks.h"

namespace sculpt::optim {

void Optimizer::init(const ParamStore& ps, std::vector<TensorSettings> settings) {
  SCULPT_CHECK(ps.finalized(), Error, "optimizer initialised before the parameters exist", "",
               "call ParamStore::finalize() first");
  if (settings.empty()) {
    settings.resize(ps.count());
    for (size_t i = 0; i < ps.count(); ++i)
      settings[i].weight_decay = ps.entry(i).flags.decays ? common_.weight_decay : 0.0;
  }
  SCULPT_CHECK(settings.size() == ps.count(), Error, "one setting per parameter tensor is needed",
               "", "");
  settings_ = std::move(settings);
  for (size_t i = 0; i < ps.count(); ++i)
    if (!ps.entry(i).flags.trainable) settings_[i].frozen = true;
  steps_.assign(ps.count(), TensorStep{});
  for (StateArray& s : state_) s.data->assign(size_t(ps.arena_size()), s.initial);
  start_state(ps);
}

void Optimizer::step(ParamStore& ps, double lr, int64_t step, const Masks* masks) {
  const double multiplier = common_.lr > 0 ? lr / common_.lr : 0.0;
  const uint8_t* keep = masks && !masks->empty() ? masks->bytes() : nullptr;
  for (size_t i = 0; i < settings_.size(); ++i) {
    const TensorSettings& s = settings_[i];
    TensorStep& t = steps_[i];
    const double rate = lr * s.lr_scale;
    t = TensorStep{.lr = rate, .frozen = s.frozen, .mask = keep};
    if (common_.decay_style == DecayStyle::kL2)
      t.l2 = static_cast<float>(s.weight_decay);
    else if (common_.decay_style == DecayStyle::kDecoupled)
      t.keep = static_cast<float>(1.0 - rate * s.weight_decay);
    else
      t.keep = static_cast<float>(1.0 - multiplier * s.weight_decay);
  }
  update(ps, steps_, step);
}

void Optimizer::on_mask_change(const Masks& masks) {
  if (masks.empty()) return;
  const float* keep = masks.keep_data();
  for (const StateArray& s : state_) {
    float* p = s.data->data();
    const int64_t n = static_cast<int64_t>(s.data->size());
#pragma omp parallel for simd if (n > kParallelThreshold)
    for (int64_t i = 0; i < n; ++i) p[i] = keep[i] != 0.0f ? p[i] : 0.0f;
  }
}

}  // namespace sculpt::optim

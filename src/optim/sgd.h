// SGD with optional momentum, as torch.optim.SGD, plus the EMA form of the seed articles:
//   d = g + l2 * w
//   pytorch form: v = d on the first step, else v = mu * v + (1 - dampening) * d
//   ema form:     v = mu * v + (1 - mu) * d, from v = 0
//   Nesterov:     d = d + mu * v, else d = v
//   w = keep * w - lr * d
// Sutskever et al., "On the importance of initialization and momentum in deep learning", 2013.
#pragma once

#include "core/tensor.h"
#include "optim/common_fields.h"
#include "optim/optimizer.h"

namespace sculpt::optim {

// v = mu*v + g (PyTorch's form) or the exponential moving average v = mu*v + (1 - mu)*g.
enum class MomentumForm { kPytorch, kEma };
inline constexpr Choice<MomentumForm> kMomentumForms[] = {{MomentumForm::kPytorch, "pytorch"},
                                                          {MomentumForm::kEma, "ema"}};
constexpr std::span<const Choice<MomentumForm>> choices_of(MomentumForm) { return kMomentumForms; }

struct SgdConfig : OptimCommon {
  double momentum = 0.0;
  double dampening = 0.0;
  bool nesterov = false;
  MomentumForm momentum_form = MomentumForm::kPytorch;
  SgdConfig() { lr = 0.01; }
  static const std::vector<Field<SgdConfig>>& fields();
};

// SGD's options for any config deriving from SgdConfig, then `more` (e.g. Lookahead's k, alpha),
// between lr and the weight decay keys.
template <class C>
std::vector<Field<C>> sgd_fields(std::vector<Field<C>> more = {}) {
  std::vector<Field<C>> own = {
      {"momentum", &C::momentum, half_open(0, 1), "momentum coefficient mu (0: plain SGD)"},
      {"dampening", &C::dampening, closed(0, 1),
       "pytorch form: v = mu*v + (1 - dampening)*g after the first step"},
      {"nesterov", &C::nesterov, "Nesterov momentum (needs momentum > 0, dampening 0)"},
      {"momentum_form", static_cast<MomentumForm C::*>(&C::momentum_form),
       "pytorch: v = mu*v + g (v = g at first); ema: v = mu*v + (1 - mu)*g from v = 0"},
  };
  for (Field<C>& f : more) own.push_back(std::move(f));
  return with_common<C>(std::move(own));
}

// Not final: Lookahead (optim/lookahead.h) takes SGD's step on its fast weights.
class Sgd : public OptimizerWith<SgdConfig> {
 public:
  explicit Sgd(SgdConfig cfg) : Sgd("sgd", std::move(cfg)) {}

 protected:
  Sgd(std::string kind, SgdConfig cfg);  // for an optimizer around SGD's step
  void update(ParamStore& ps, const std::vector<TensorStep>& steps, int64_t step) override;

 private:
  AlignedVector<float> velocity_;
};

}  // namespace sculpt::optim

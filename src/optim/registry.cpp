// The optimizer registry: one include and one row per optimizer. Each row carries the rule,
// the paper and an example; `sculpt list optimizers` and docs/optimizers.md print them.
#include "core/registry.h"

#include <fmt/format.h>

#include <functional>
#include <memory>
#include <string>
#include <type_traits>

#include "core/error.h"
#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/config.h"
#include "optim/lion.h"
#include "optim/lookahead.h"
#include "optim/nadam.h"
#include "optim/optimizer.h"
#include "optim/param_groups.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"

namespace sculpt::optim {

namespace {

using Row = OptionRow<OptimizerInfo, Optimizer>;

// The conformance suite's rates for this optimizer: {quadratic, rosenbrock}.
struct TestRates {
  double quadratic, rosenbrock;
};

// The row of optimizer O configured by C. An optimizer serving several rows (Adam for adam, adamw
// and amsgrad) is told the row's name, which checkpoints record.
template <class C, class O>
Row row(const char* name, const char* title, const char* rule, const char* paper,
        const char* example, TestRates rates) {
  return option_row<C, Row>("optim",
                            {.name = name,
                             .title = title,
                             .rule = rule,
                             .paper = paper,
                             .example = example,
                             .fields = {},  // option_row lists C's
                             .test_lr_quadratic = rates.quadratic,
                             .test_lr_rosenbrock = rates.rosenbrock},
                            [name](C c) -> std::unique_ptr<Optimizer> {
                              if constexpr (std::is_constructible_v<O, std::string, C>)
                                return std::make_unique<O>(name, std::move(c));
                              else
                                return (void)name, std::make_unique<O>(std::move(c));
                            });
}

const Registry<Row>& registry() {
  static const Registry<Row> r(
      "optim.name",
      {
          row<SgdConfig, Sgd>(
              "sgd", "SGD with momentum and Nesterov",
              "d = g + l2*w\n"
              "pytorch form: v = d at the first step, then v = momentum*v + (1 - dampening)*d\n"
              "ema form:     v = momentum*v + (1 - momentum)*d, from v = 0\n"
              "d = d + momentum*v (Nesterov), else d = v   (d = g without momentum)\n"
              "w = keep*w - lr_t*d",
              "Robbins & Monro, \"A Stochastic Approximation Method\", 1951; Sutskever et al., "
              "\"On "
              "the importance of initialization and momentum in deep learning\", ICML 2013",
              "[optim]\nname = \"sgd\"\nlr = 0.1\nmomentum = 0.9\nnesterov = true\nweight_decay = "
              "5e-4\n",
              {0.1, 1e-3}),
          row<AdagradConfig, Adagrad>(
              "adagrad", "AdaGrad",
              "d = g + l2*w\nsum = sum + d^2\nw = keep*w - lr_t / (1 + t*lr_decay) * d / "
              "(sqrt(sum) + "
              "eps)",
              "Duchi, Hazan & Singer, \"Adaptive Subgradient Methods for Online Learning and "
              "Stochastic Optimization\", JMLR 2011",
              "[optim]\nname = \"adagrad\"\nlr = 0.01\n", {0.5, 0.3}),
          row<RmspropConfig, Rmsprop>(
              "rmsprop", "RMSprop",
              "d = g + l2*w\nsq = alpha*sq + (1 - alpha)*d^2\n"
              "centered: ga = alpha*ga + (1 - alpha)*d; den = sqrt(sq - ga^2) + eps; else den = "
              "sqrt(sq) + eps\n"
              "momentum > 0: buf = momentum*buf + d/den; w = keep*w - lr_t*buf\n"
              "else: w = keep*w - lr_t*d/den",
              "Hinton, Srivastava & Swersky, \"Neural Networks for Machine Learning\", lecture 6e, "
              "2012; centered: Graves, \"Generating Sequences With Recurrent Neural Networks\", "
              "2013",
              "[optim]\nname = \"rmsprop\"\nlr = 0.001\nalpha = 0.99\n", {0.01, 1e-3}),
          row<AdamConfig, Adam>(
              "adam", "Adam",
              "d = g + l2*w\nm = beta1*m + (1 - beta1)*d\nv = beta2*v + (1 - beta2)*d^2\n"
              "amsgrad: vmax = max(vmax, v), used in place of v\n"
              "w = keep*w - lr_t / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)",
              "Kingma & Ba, \"Adam: A Method for Stochastic Optimization\", ICLR 2015",
              "[optim]\nname = \"adam\"\nlr = 0.001\n", {0.02, 0.01}),
          row<AdamWConfig, Adam>(
              "adamw", "AdamW (decoupled weight decay)",
              "Adam's rule with decay_style = \"decoupled\": w = (1 - lr_t*wd)*w - (Adam step)\n"
              "decay_style = \"decoupled-schedule\" decays by (lr_t/lr)*wd, the paper's "
              "eta_t*lambda",
              "Loshchilov & Hutter, \"Decoupled Weight Decay Regularization\", ICLR 2019",
              "[optim]\nname = \"adamw\"\nlr = 0.001\nweight_decay = 0.01\n", {0.02, 0.01}),
          row<AmsgradConfig, Adam>(
              "amsgrad", "AMSGrad",
              "Adam's rule with the running maximum of the second moment:\n"
              "vmax = max(vmax, v); w = keep*w - lr_t / (1 - beta1^t) * m / (sqrt(vmax) / sqrt(1 - "
              "beta2^t) + eps)",
              "Reddi, Kale & Kumar, \"On the Convergence of Adam and Beyond\", ICLR 2018",
              "[optim]\nname = \"amsgrad\"\nlr = 0.001\n", {0.02, 0.01}),
          row<NadamConfig, Nadam>(
              "nadam", "NAdam (Nesterov Adam)",
              "mu_t = beta1*(1 - 0.5*0.96^(t*momentum_decay)); P_t = mu_1*...*mu_t\n"
              "d = g + l2*w; m = beta1*m + (1 - beta1)*d; v = beta2*v + (1 - beta2)*d^2\n"
              "den = sqrt(v / (1 - beta2^t)) + eps\n"
              "w = keep*w - lr_t*(1 - mu_t)/(1 - P_t) * d/den - lr_t*mu_(t+1)/(1 - P_t*mu_(t+1)) * "
              "m/den",
              "Dozat, \"Incorporating Nesterov Momentum into Adam\", ICLR workshop 2016",
              "[optim]\nname = \"nadam\"\nlr = 0.002\n", {0.02, 0.01}),
          row<LionConfig, Lion>(
              "lion", "Lion (sign momentum)",
              "d = g + l2*w\nc = beta1*m + (1 - beta1)*d\nw = keep*w - lr_t*sign(c)\n"
              "m = beta2*m + (1 - beta2)*d",
              "Chen et al., \"Symbolic Discovery of Optimization Algorithms\", NeurIPS 2023",
              "[optim]\nname = \"lion\"\nlr = 1e-4\nweight_decay = 0.1\n", {0.01, 1e-3}),
          row<LookaheadConfig, Lookahead>(
              "lookahead", "Lookahead (around SGD)",
              "fast weights w: SGD's rule above (every option of it; momentum 0.9 by default)\n"
              "after steps t = k, 2k, ...: phi = phi + alpha*(w - phi); w = phi\n"
              "phi (the slow weights, a state array) starts as the initial weights",
              "Zhang, Lucas, Hinton & Ba, \"Lookahead Optimizer: k steps forward, 1 step back\", "
              "NeurIPS 2019",
              "[optim]\nname = \"lookahead\"\nlr = 0.1\nmomentum = 0.9\nk = 5\nalpha = 0.5\n",
              // Quadratic 0.1: SGD's rate; the fast weights' heavy ball (mu 0.9) is stable
              // for lr*a < 2(1 + mu), lr < 0.95 at a = 4 (it diverges here from 0.7), and the
              // slow weights only shorten its steps: ~1e-7 of the starting loss in 500 steps.
              // Rosenbrock 1e-3: pulling the fast weights back every 5 steps damps the heavy
              // ball's bouncing across the valley, so unlike SGD with momentum (1e-4) it
              // converges up to 3e-3 and diverges by 5e-3; at 1e-3 every variant ends below
              // f = 3e-4.
              {0.1, 1e-3}),
      });
  return r;
}

const Row& find_row(std::string_view name) { return registry().find(name); }

}  // namespace

const std::vector<OptimizerInfo>& optimizer_infos() { return registry().infos(); }

std::vector<std::string> optimizer_names() { return registry().names(); }

// The keys of an optimizer are its resolved defaults' keys, in order.
const FamilyIndex& optimizer_index() {
  static const FamilyIndex index = [] {
    FamilyIndex i = registry().index();
    i.fields = [](std::string_view name) {
      std::vector<std::string> keys;
      const Options defaults = find_row(name).fields.resolve({}, "optim");
      for (const Option& o : defaults.items()) keys.push_back(o.key);
      return keys;
    };
    return i;
  }();
  return index;
}

Options resolve_options(const OptimConfig& cfg) {
  return find_row(cfg.name).fields.resolve(cfg.options, "optim");
}

double base_lr(const OptimConfig& cfg) {
  return std::get<double>(resolve_options(cfg).find("lr")->value);
}

std::unique_ptr<Optimizer> make_optimizer(const OptimConfig& cfg, const ParamStore& ps) {
  const Row& r = find_row(cfg.name);
  std::unique_ptr<Optimizer> opt = r.make(r.fields.resolve(cfg.options, "optim"));
  opt->init(ps, tensor_settings(ps, cfg.groups, opt->common().weight_decay));
  return opt;
}

}  // namespace sculpt::optim

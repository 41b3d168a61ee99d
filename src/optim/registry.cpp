// The optimizer registry: one include and one row per optimizer.
#include "core/error.h"
#include "io/recipe.h"
#include "optim/optimizer.h"
#include "optim/sgd.h"

namespace sculpt::optim {

namespace {
struct Row {
  const char* name;
  std::unique_ptr<Optimizer> (*make)(const OptimConfig&);
};

const Row kRows[] = {
    {"sgd",
     [](const OptimConfig& c) -> std::unique_ptr<Optimizer> {
       return std::make_unique<Sgd>(SgdConfig{.momentum = c.momentum,
                                              .dampening = c.dampening,
                                              .nesterov = c.nesterov,
                                              .weight_decay = c.weight_decay});
     }},
};
}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const OptimConfig& cfg) {
  for (const Row& r : kRows)
    if (cfg.name == r.name) return r.make(cfg);
  throw ConfigError("unknown optimizer '" + cfg.name + "'", "optim.name",
                    "run `sculpt list optimizers` to see the choices");
}

std::vector<std::string> optimizer_names() {
  std::vector<std::string> names;
  for (const Row& r : kRows) names.emplace_back(r.name);
  return names;
}

}  // namespace sculpt::optim

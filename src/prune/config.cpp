// [prune] fields and the checks that span several of them.
#include "prune/config.h"

#include <fmt/format.h>

#include <cstdlib>

#include "core/error.h"
#include "prune/criterion.h"

namespace sculpt::prune {

const std::vector<Field<PruneConfig>>& PruneConfig::fields() {
  using C = PruneConfig;
  static const std::vector<Field<C>> f = {
      {"when", &C::when,
       "during training: gradual ramp, once at step 0 (snip), once after the last epoch, or none"},
      {"criterion", &C::criterion, criterion_names(),
       "what scores an entry (sculpt list criteria)"},
      {"granularity", &C::granularity,
       "single weights, n of every m inputs, or whole neurons/channels"},
      {"n", &C::n, at_least(1), "n:m: weights kept in each group"},
      {"m", &C::m, at_least(2), "n:m: group size along the input dimension"},
      {"group_norm", &C::group_norm, "neuron/channel: norm of a unit's entry scores"},
      {"scope", &C::scope, "one ranking across layers, or each layer alone"},
      {"sparsity", &C::sparsity, half_open(0, 1), "target fraction of the prunable weights"},
      {"threshold", &C::threshold, {}, ">= 0: prune entries scoring <= threshold instead"},
      {"exclude", &C::exclude, {}, "comma-separated layers never pruned, e.g. \"fc3\""},
      {"layers", &C::layers, {}, "scope = layer: per-layer sparsities, \"fc1=0.97,fc2=0.9\""},
      {"biases", &C::biases, "also prune biases (unstructured only)"},
      {"initial_sparsity", &C::initial_sparsity, half_open(0, 1), "gradual: s_i at `start`"},
      {"unit", &C::unit,
       "gradual: what start and end count: epochs, or fractions of the whole run (0.1 = a tenth)"},
      {"start", &C::start, at_least(0), "gradual: when the ramp starts (t0), in `unit`"},
      {"end", &C::end, at_least(0),
       "gradual: when the target is reached, in `unit` (0: 2/3 of the run)"},
      {"every", &C::every, at_least(1), "gradual: steps between mask updates (dt)"},
      {"ramp", &C::ramp, "gradual: shape of the sparsity ramp (cubic: Zhu & Gupta 2017)"},
      {"batches", &C::batches, at_least(1), "gradient, taylor, snip: batches scores sum over"},
      {"rewind_step", &C::rewind_step, at_least(-1),
       ">= 0: keep the weights of this step for lottery-ticket rewinding"},
      {"seed", &C::seed, {}, "random criterion (0: train.seed)"},
  };
  return f;
}

std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    const size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
    pos = comma + 1;
  }
  return out;
}

std::map<std::string, double> parse_layer_table(const std::string& text, const std::string& key) {
  std::map<std::string, double> out;
  for (const std::string& item : split_names(text)) {
    const size_t eq = item.find('=');
    SCULPT_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < item.size(), ConfigError,
                 fmt::format("'{}' is not layer=sparsity", item), key,
                 "write e.g. \"fc1=0.97,fc2=0.9\"");
    std::string name = item.substr(0, eq), value = item.substr(eq + 1);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    char* end = nullptr;
    const double s = std::strtod(value.c_str(), &end);
    SCULPT_CHECK(end != value.c_str() && *end == '\0' && s >= 0.0 && s < 1.0, ConfigError,
                 fmt::format("sparsity of '{}' must be a number in [0, 1), got '{}'", name, value),
                 key);
    out[name] = s;
  }
  return out;
}

void validate(const PruneConfig& c, const std::string& table) {
  auto key = [&](const char* k) { return table + "." + k; };
  validate_fields(c, table, "");  // choices and ranges, for a config filled from options
  SCULPT_CHECK(c.granularity != Granularity::kNM || c.n < c.m, ConfigError,
               fmt::format("n:m needs n < m, got {}:{}", c.n, c.m), key("n"),
               "2:4 keeps 2 of every 4 weights");
  SCULPT_CHECK(!structured(c) || !c.biases, ConfigError,
               "biases = true applies to unstructured pruning only", key("biases"),
               "neuron/channel pruning removes a unit's bias with its weights");
  SCULPT_CHECK(c.threshold < 0 || c.when != When::kGradual, ConfigError,
               "a threshold has no ramp; gradual pruning needs a target sparsity", key("threshold"),
               "set sparsity instead, or prune once with sculpt prune");
  SCULPT_CHECK(c.threshold < 0 || c.granularity == Granularity::kUnstructured, ConfigError,
               "a threshold applies to unstructured pruning", key("threshold"));
  SCULPT_CHECK(
      c.initial_sparsity <= c.sparsity, ConfigError,
      fmt::format("initial_sparsity {} is above sparsity {}", c.initial_sparsity, c.sparsity),
      key("initial_sparsity"));
  SCULPT_CHECK(c.end == 0.0 || c.end > c.start, ConfigError,
               fmt::format("end {} must come after start {}", c.end, c.start), key("end"));
  SCULPT_CHECK(c.unit != RampUnit::kRun || (c.start < 1.0 && c.end <= 1.0), ConfigError,
               fmt::format("with unit = \"run\", start and end are fractions of the run, got "
                           "start {} and end {}",
                           c.start, c.end),
               key(c.start >= 1.0 ? "start" : "end"), "e.g. start = 0.1, end = 0.7");
  SCULPT_CHECK(c.criterion != "movement" || c.when == When::kGradual, ConfigError,
               "movement scores accumulate during training", key("criterion"),
               "use it with when = \"gradual\"");
  SCULPT_CHECK(c.criterion != "snip" || c.when != When::kGradual, ConfigError,
               "snip scores the network at initialisation", key("criterion"),
               "use when = \"snip\", or taylor for gradual pruning");
  if (!c.layers.empty()) {
    SCULPT_CHECK(c.scope == Scope::kLayer, ConfigError,
                 "per-layer sparsities need scope = \"layer\"", key("layers"));
    parse_layer_table(c.layers, key("layers"));
  }
  make_criterion(c.criterion);  // throws for an unknown name
}

}  // namespace sculpt::prune

#include "optim/param_groups.h"

#include <fmt/format.h>

#include "core/error.h"
#include "optim/config.h"

namespace sculpt::optim {

bool glob_match(std::string_view p, std::string_view s) {
  // Iterative matcher with one backtrack point (the last '*'): linear in practice, no recursion.
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++pi, ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::vector<TensorSettings> tensor_settings(const ParamStore& ps,
                                            const std::vector<ParamGroupConfig>& groups,
                                            double weight_decay) {
  std::vector<TensorSettings> out(ps.count());
  std::vector<bool> taken(ps.count(), false);
  for (size_t i = 0; i < ps.count(); ++i)
    out[i].weight_decay = ps.entry(i).flags.decays ? weight_decay : 0.0;
  std::vector<std::string> names;
  for (const ParamEntry& e : ps.entries()) names.push_back(e.name);
  for (size_t g = 0; g < groups.size(); ++g) {
    const ParamGroupConfig& grp = groups[g];
    for (const std::string& pattern : grp.params) {
      bool any = false;
      for (size_t i = 0; i < ps.count(); ++i) {
        if (!glob_match(pattern, names[i])) continue;
        any = true;
        if (taken[i]) continue;  // an earlier group decided
        taken[i] = true;
        out[i].lr_scale = grp.lr_scale;
        if (grp.weight_decay >= 0) out[i].weight_decay = grp.weight_decay;
        out[i].frozen = grp.frozen;
      }
      if (!any)
        throw ConfigError(
            fmt::format("optim.groups[{}].params \"{}\" matches no parameter", g, pattern),
            grp.where, fmt::format("the model's parameters are: {}", fmt::join(names, ", ")));
    }
  }
  return out;
}

}  // namespace sculpt::optim

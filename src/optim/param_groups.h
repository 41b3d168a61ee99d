// Parameter groups: [[optim.groups]] tables whose glob patterns ("*.bias", "fc3.*") pick tensors
// by name and give them their own lr scale, weight decay, or freeze them. The first group that
// matches a tensor decides; tensors no group matches keep the defaults.
#pragma once

#include <string_view>
#include <vector>

#include "core/param_store.h"
#include "optim/optimizer.h"

namespace sculpt {
struct ParamGroupConfig;
}

namespace sculpt::optim {

// Shell-style match: '*' any run of characters (dots included), '?' one character.
bool glob_match(std::string_view pattern, std::string_view name);

// Per-tensor settings for `ps`. Without a group (or when the group leaves weight_decay unset),
// a tensor decays with `weight_decay` if ParamFlags::decays, else not at all. Throws ConfigError
// naming the group when a pattern matches no tensor, listing the tensor names.
std::vector<TensorSettings> tensor_settings(const ParamStore& ps,
                                            const std::vector<ParamGroupConfig>& groups,
                                            double weight_decay);

}  // namespace sculpt::optim

// The options every optimizer shares (lr, weight_decay, decay_style) around its own.
#pragma once

#include <vector>

#include "core/fields.h"
#include "optim/optimizer.h"

namespace sculpt::optim {

template <class C>
std::vector<Field<C>> with_common(std::vector<Field<C>> own) {
  std::vector<Field<C>> f = {
      {"lr", &C::lr, at_least(0), "base learning rate (the schedule scales it)"},
  };
  for (Field<C>& x : own) f.push_back(std::move(x));
  f.push_back({"weight_decay", &C::weight_decay, at_least(0),
               "weight decay coefficient wd (how it applies: decay_style)"});
  f.push_back(
      {"decay_style", static_cast<DecayStyle C::*>(&C::decay_style),
       "l2: g += wd*w; decoupled: w -= lr_t*wd*w; decoupled-schedule: w -= (lr_t/lr)*wd*w"});
  return f;
}

}  // namespace sculpt::optim

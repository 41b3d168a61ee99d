// Surgery: physically removes the units (neurons, channels) that structured pruning has masked,
// at the checkpoint level. The result is a smaller dense model that computes the same function
// as the masked one: a spec with reduced `out` arguments and a checkpoint whose tensors are
// sliced to the new shapes, so it loads, trains and exports like any other model.
//
// A unit u of a channel group (see prune/structure.h) is dead when its weight row is masked
// ("mask.<weight>" == 0) in every producer of the group. Removing it drops row u of each
// producer's weight and bias, entry u of the group's BatchNorm tensors (scale, shift, running
// statistics) and the unit's columns of every reader's weight.
//
// A dead unit still outputs a constant: act(bias_u), carried through the layers up to the next
// one (sigmoid(0) = 0.5, or an unmasked bias). Structured pruning also zeroes the readers'
// columns, so the constant reaches nothing. When a row was emptied otherwise (unstructured
// pruning) and the constant is not zero, its effect on the next layer is folded into that
// layer's bias, so the outputs do not change; that is done on a chain (one producer, one reader,
// no BatchNorm in between). The fold is exact for a next Linear, and for a next Conv2d without
// padding when the constant is uniform; otherwise (a padded Conv2d sees the zero border too, or
// the unit is part of a graph's branches) the unit is kept and a note says why.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/shape.h"
#include "io/safetensors.h"
#include "nn/model.h"

namespace sculpt::prune {

struct UnitChange {
  std::string layer;
  int64_t before = 0, after = 0;
};

struct SurgeryResult {
  // Every layer named (as Model::build names them: fc1, conv2, relu3, ...), `out` of shrunk
  // layers reduced, a next Linear's explicit `in` (when the spec gives one) reduced to match.
  nn::ModelSpec spec;
  // Every tensor sliced to the new shapes; metadata copied unchanged.
  io::Checkpoint checkpoint;
  // Only the layers whose unit count changed, in forward order.
  std::vector<UnitChange> changes;
  // Dead units kept because removing them would change the outputs ("conv1 unit 3: ...").
  std::vector<std::string> notes;
};

// Removes the dead units of every removable channel group (not the model's outputs). Every
// checkpoint tensor whose name is a parameter name, or ends in "." + a parameter name
// (optimizer state "opt.exp_avg.fc1.weight", masks "mask.fc1.weight", any per-parameter
// array such as "prune.stat.fc1.weight"), is sliced like that parameter; it must have the
// parameter's number of entries (DataError otherwise). Other tensors are copied unchanged.
// Without mask tensors nothing changes (empty changes).
// Throws ShapeError when every unit of a layer is dead ("cannot remove all 300 units of fc1")
// or a parameter has the wrong shape, DataError when the checkpoint lacks a parameter the model
// declares, and what Model::build and prunable_structure throw.
SurgeryResult remove_dead_units(const nn::ModelSpec& spec, const Shape& input,
                                const io::Checkpoint& ck);

// `spec` with every layer's name made explicit, as `built` (Model::build(spec, ...)) named it.
// Why: parameter names derive from layer names, and a spec written out after surgery (or edited
// later, e.g. a layer inserted) must keep naming the checkpoint's tensors the same way.
// Throws ConfigError when `built` has a different number of layers than `spec`.
nn::ModelSpec named_spec(const nn::Model& built, const nn::ModelSpec& spec);

}  // namespace sculpt::prune

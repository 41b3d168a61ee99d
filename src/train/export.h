// From a trained (and pruned) model to an export: the trainer's weights under its masks, with
// the units pruning left dead removed for real (prune/surgery.h), so structured pruning gives
// smaller dense layers and the sparse encodings only carry what is left.
#pragma once

#include <string>
#include <vector>

#include "infer/export_format.h"
#include "prune/surgery.h"
#include "train/trainer.h"

namespace sculpt::train {

struct ExportSource {
  infer::ExportModel model;
  std::vector<prune::UnitChange> surgery;  // layers that lost dead units
  std::vector<std::string> notes;          // dead units surgery had to keep, and why
  std::vector<std::string> folded;         // BatchNorm layers folded away (infer/fold.h)
};

// `source` names the checkpoint in the export's provenance. Without `surgery` the layers keep
// their dead units (the architecture as trained). BatchNorm layers after a convolution or a
// linear layer are folded into it either way. Throws what surgery throws.
ExportSource export_from_trainer(const Trainer& t, const std::string& source, bool surgery = true);

}  // namespace sculpt::train

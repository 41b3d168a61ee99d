// The data entry point of a run: reads the source named in the recipe's [data] table and
// returns train / val / test splits, normalised with statistics of the train part only.
#pragma once

#include "core/rng.h"
#include "data/dataset.h"
#include "io/recipe.h"

namespace sculpt::data {

// Sources:
//  fashion-mnist, idx: <path>/{train-images-idx3-ubyte,train-labels-idx1-ubyte,
//    t10k-images-idx3-ubyte,t10k-labels-idx1-ubyte}.gz (non-.gz names when the .gz is absent).
//  csv: `path`; test from `test_path` if given (read with the task found for `path`), else
//    test_fraction carved from `path` first.
//  synthetic-linear, synthetic-blobs: `samples` generated, test_fraction carved, then val.
// Then: limit_train / limit_test keep the first N (0: all), val_fraction is carved from train
// (never from test), normalize = "standard" fits a scalar mean/std on train and applies it to
// all three (recorded in Splits::norm_mean/norm_std). Deterministic in `rng`.
// Throws ConfigError for an unknown source (with did-you-mean), bad fractions or an empty
// train split; IoError / DataError from the readers.
Splits load_splits(const DataConfig& cfg, Rng& rng);

}  // namespace sculpt::data

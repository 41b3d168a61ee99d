// Sculpt's public API: train, prune, export and run neural networks on the CPU.
//
//   #include <sculpt/sculpt.h>
//
//   sculpt::Run run = sculpt::Run::start(sculpt::Recipe::load("recipes/mlp.toml"));
//   run.train();
//   run.export_model(run.dir() + "/model.sculpt");
//   sculpt::InferenceModel model = sculpt::InferenceModel::load(run.dir() + "/model.sculpt");
//
// Link with Sculpt::sculpt (find_package(Sculpt)). Every failure is a sculpt::Error.
#pragma once

#include "sculpt/data.h"
#include "sculpt/error.h"
#include "sculpt/inference.h"
#include "sculpt/model.h"
#include "sculpt/recipe.h"
#include "sculpt/run.h"

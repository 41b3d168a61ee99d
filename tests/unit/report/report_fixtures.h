// Synthetic run directories' contents for the report tests.
#pragma once

#include <string>

#include "report/run_reader.h"

namespace sculpt::report::testing {

// A finished classification run of `epochs` epochs and 10 steps each, every step logged, with
// global-norm clipping at 5 and a pruned layer fc1.
inline RunData fake_run(const std::string& name, int epochs = 4, double lr = 0.1) {
  RunData run;
  run.dir = "/runs/" + name;
  run.name = name;
  run.optimizer = "sgd";
  run.clipper = "global-norm";
  run.clip_limit = 5.0;
  run.recipe_text = "[optim]\nname = \"sgd\"\n";
  for (int e = 1; e <= epochs; ++e) {
    for (int s = 1; s <= 10; ++s) {
      MetricsRecord r{.event = "step", .step = (e - 1) * 10 + s, .epoch = e, .loss = 1.0 / e,
                      .lr = lr / e, .grad_norm = 2.0 + s, .clipped = s > 3 ? 1 : 0};
      r.extra["clip_norm"] = s > 3 ? 5.0 : 2.0 + s;
      run.records.push_back(r);
    }
    MetricsRecord p{.event = "prune", .step = e * 10, .epoch = e};
    p.sparsity = 0.2 * e;  // written as an extra, read back into the field
    p.extra["sparsity.fc1"] = 0.25 * e;
    run.records.push_back(p);
    MetricsRecord r{.event = "epoch", .step = e * 10, .epoch = e, .loss = 1.0 / e,
                    .train_acc = 0.5 + 0.1 * e, .val_loss = 1.1 / e, .val_acc = 0.5 + 0.09 * e,
                    .test_loss = 1.2 / e, .test_acc = 0.5 + 0.08 * e, .lr = lr / e};
    r.extra["clip_rate"] = 0.7;
    r.sparsity = 0.2 * e;
    run.records.push_back(r);
  }
  MetricsRecord end{.event = "end", .step = epochs * 10, .epoch = epochs, .loss = 1.0 / epochs,
                    .test_acc = 0.89, .sparsity = 0.8, .samples_per_s = 12345, .time_s = 6.5};
  end.extra = {{"params", 1000}, {"nonzero", 250}, {"sparsity.fc1", 0.8},
               {"params.fc1", 900}, {"kept.fc1", 180}};
  run.records.push_back(end);
  run.files = {{"checkpoints/last.safetensors", 4200}};
  return run;
}

}  // namespace sculpt::report::testing

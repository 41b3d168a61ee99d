// Exact resume: the training state a checkpoint carries besides its tensors (step, epoch, random
// streams) as metadata strings, and what a resumed run may change in its recipe.
// The whole checkpoint layout is in docs/formats.md.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/recipe.h"
#include "sched/schedule.h"

namespace sculpt::train {

// Version 2 added the training state below; version 1 files hold weights only (eval still
// reads them, resume does not).
inline constexpr int kCheckpointVersion = 2;

// What the next epoch reads besides the weights and the optimizer state. Schedules are pure
// functions of the step apart from reduce-on-plateau, whose state is here; the clipper keeps
// no history yet.
struct TrainState {
  int64_t epoch = 0;                      // epochs completed
  int64_t step = 0;                       // optimizer steps taken
  std::array<uint64_t, 4> data_rng{};     // shuffling stream, before the next epoch's shuffle
  std::array<uint64_t, 4> dropout_rng{};  // dropout stream
  uint64_t dropout_key = 0;               // every step's dropout key derives from it and the step
  std::optional<sched::PlateauState> plateau;  // when the schedule reduces on plateau
  std::vector<double> clip;                    // the clipper's history (AutoClip), if any
};

// Adds "format", "version", "epoch", "step", "rng.data", "rng.dropout", "dropout_key" and, with a
// plateau, "plateau" (scale, best, bad epochs, cooldown left, epochs, reductions; hex floats);
// with a clipper that keeps history, "clip" (its values as hex floats).
void put_state(const TrainState& s, std::map<std::string, std::string>& meta);
// Reads them back. DataError naming `where`: not a Sculpt checkpoint, a version without training
// state, or (in one message) every absent or malformed key.
TrainState get_state(const std::map<std::string, std::string>& meta, const std::string& where);

// Four 16-digit hex words separated by spaces, and back (nullopt when malformed).
std::string format_rng_state(const std::array<uint64_t, 4>& s);
std::optional<std::array<uint64_t, 4>> parse_rng_state(std::string_view text);
std::string format_plateau_state(const sched::PlateauState& s);
std::optional<sched::PlateauState> parse_plateau_state(std::string_view text);

// Recipe keys ("table.key") a resumed run may change: train.epochs and output.*. Changing any
// other would make it a different run than the one the checkpoint continues.
bool resume_may_change(std::string_view key);

// Every recipe value that differs between `saved` (the checkpoint's) and `now`, keys a resume
// may change left out: "optim.lr (checkpoint 0.1, now 0.05)". Layer and group tables are
// numbered: "model.layers[1].out".
std::vector<std::string> recipe_differences(const Recipe& saved, const Recipe& now);

}  // namespace sculpt::train

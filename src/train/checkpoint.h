// A run's checkpoints. Here: the training state a checkpoint carries besides its tensors (step,
// epoch, random streams) as metadata strings (checkpoint_state.cpp), and what a resumed run may
// change in its recipe. Trainer::save_checkpoint, check_checkpoint, restore and load_weights
// (checkpoint.cpp) write, verify and read whole checkpoints. The layout is in docs/formats.md.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/checkpoint.h"
#include "io/recipe.h"
#include "sched/schedule.h"

namespace sculpt::train {

// The first checkpoint format version with the training state below (io::kCheckpointVersion is
// the version written now); version 1 files hold weights only (eval still reads them, resume
// does not).
inline constexpr int kFirstStateVersion = 2;

// Where a checkpoint taken inside an epoch stands in it, and the epoch's metrics so far, so that
// the resumed epoch reports what an uninterrupted one would. The epoch's order is rebuilt from
// TrainState::data_rng, which for such a checkpoint is the stream before the epoch's shuffle.
struct EpochProgress {
  int64_t batches = 0;         // micro-batches consumed (whole optimizer steps only)
  int64_t steps_in_epoch = 0;  // optimizer steps of this epoch, skipped ones included
  int64_t samples = 0, correct = 0;
  int64_t steps = 0, skipped = 0, clipped_steps = 0, sampled_steps = 0, skips_in_a_row = 0;
  double loss_sum = 0.0, grad_norm_sum = 0.0, grad_norm_max = 0.0;
  double seconds = 0.0;             // training time spent in the epoch before the checkpoint
  std::vector<double> tensor_sums;  // per parameter tensor: sum of sampled squared norms
};

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
  std::optional<EpochProgress> progress;       // a checkpoint inside epoch `epoch + 1`
};

// Adds "format", "version", "epoch", "step", "rng.data", "rng.dropout", "dropout_key" and, with a
// plateau, "plateau" (scale, best, bad epochs, cooldown left, epochs, reductions; hex floats);
// with a clipper that keeps history, "clip" (its values as hex floats); inside an epoch,
// "epoch_progress" (its counts, then its sums as hex floats).
void put_state(const TrainState& s, std::map<std::string, std::string>& meta);
// Reads them back. DataError naming `where`: not a Sculpt checkpoint, a version without training
// state, or (in one message) every absent or malformed key.
TrainState get_state(const std::map<std::string, std::string>& meta, const std::string& where);

// Four 16-digit hex words separated by spaces, and back (nullopt when malformed).
std::string format_rng_state(const std::array<uint64_t, 4>& s);
std::optional<std::array<uint64_t, 4>> parse_rng_state(std::string_view text);
std::string format_plateau_state(const sched::PlateauState& s);
std::string format_epoch_progress(const EpochProgress& p);
std::optional<EpochProgress> parse_epoch_progress(std::string_view text);
std::optional<sched::PlateauState> parse_plateau_state(std::string_view text);

// RecipeConfig keys ("table.key") a resumed run may change: train.epochs and output.*. Changing any
// other would make it a different run than the one the checkpoint continues.
bool resume_may_change(std::string_view key);

// Every recipe value that differs between `saved` (the checkpoint's) and `now`, keys a resume
// may change left out: "optim.lr (checkpoint 0.1, now 0.05)". Layer and group tables are
// numbered: "model.layers[1].out".
std::vector<std::string> recipe_differences(const RecipeConfig& saved, const RecipeConfig& now);

}  // namespace sculpt::train

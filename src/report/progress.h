// Progress on stderr: a one-line bar redrawn with '\r' on a terminal (at most ~10 redraws a
// second), plain lines otherwise, nothing with "none". The formatting is pure functions so it
// can be tested without a terminal; tick() only does arithmetic and a clock read between draws.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace sculpt::report {

enum class ProgressMode { kBar, kPlain, kNone };

// "auto" -> bar when stderr is a terminal, else plain; "bar" | "plain" | "none" as written.
// Throws ConfigError for other strings.
ProgressMode resolve_progress_mode(std::string_view mode, bool is_tty);

// "0:42", "12:05", "1:02:03"; "--:--" when unknown (negative, NaN, infinite).
std::string format_eta(double seconds);
// "950", "61.2k", "1.23M": a rate without its unit.
std::string format_rate(double per_second);

struct BarState {
  int64_t epoch = 0, epochs = 0;  // 1-based epoch
  int64_t step = 0, steps = 0;    // 1-based step within the epoch, steps per epoch
  double loss = 0.0;              // running mean over the epoch so far
  std::optional<double> acc;      // running accuracy in [0, 1]; absent for regression
  double lr = 0.0;
  std::optional<double> clip_rate;  // fraction of the epoch's steps clipped, when clipping
  double samples_per_s = 0.0;
  double eta_s = -1.0;  // whole run; negative: unknown
};
// "epoch 3/10 [#####.....] 234/469 loss 0.4123 acc 85.2% lr 0.1 clip 12% 61.2k samples/s ETA 0:42",
// appended to `out` (so a caller can reuse one buffer).
void render_bar(std::string& out, const BarState& s);
std::string render_bar(const BarState& s);

struct EpochSummary {
  int64_t epoch = 0, epochs = 0;
  double train_loss = 0.0;
  std::optional<double> train_acc, val_acc, test_acc;  // classification
  std::optional<double> val_loss, test_loss;           // shown when accuracies are absent
  std::optional<double> clip_rate;  // fraction of the epoch's steps clipped, when clipping
  std::optional<double> sparsity;   // fraction of the weights pruned, when pruning
  double seconds = 0.0;
  double samples_per_s = 0.0;
};
// "epoch 3/10  loss 0.41  train 85.2%  val 86.0%  test 85.7%  clipped 12%  sparsity 80.0%  12.3s
// 61.2k samples/s"
// (regression: "... loss 0.0123  val loss 0.0131  test loss 0.0125 ...").
std::string format_epoch_line(const EpochSummary& s);

class Progress {
 public:
  // `mode`: auto | bar | plain | none. `accuracy`: false for regression (no acc shown).
  Progress(std::string_view mode, int64_t epochs, bool accuracy = true, std::FILE* out = stderr);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  // Predictions per sample (a text window scores every position): accuracy is over them.
  void set_positions(int64_t positions) { positions_ = positions; }

  // After every step: this batch's mean loss, correct predictions and size; `clipped` when a
  // clipper runs (whether it changed this step's gradients). Cheap.
  void tick(int64_t epoch, int64_t step_in_epoch, int64_t steps_per_epoch, double loss,
            int64_t correct, int64_t samples, double lr, std::optional<bool> clipped = {});
  void epoch_end(const EpochSummary& s);
  // E: train::EpochEvent or anything with its fields (epoch, train_loss, train_acc,
  // val/test {loss, accuracy, samples}, seconds, samples_per_s).
  template <class E>
  void epoch_end(const E& e) {
    EpochSummary s;
    s.epoch = e.epoch;
    s.epochs = epochs_;
    s.train_loss = e.train_loss;
    if (accuracy_) s.train_acc = e.train_acc;
    if (e.val.samples > 0) {
      if (accuracy_)
        s.val_acc = e.val.accuracy;
      else
        s.val_loss = e.val.loss;
    }
    if (e.test.samples > 0) {
      if (accuracy_)
        s.test_acc = e.test.accuracy;
      else
        s.test_loss = e.test.loss;
    }
    if constexpr (requires { e.clipped_steps; })
      if (clip_steps_ > 0 && e.steps > 0) s.clip_rate = double(e.clipped_steps) / double(e.steps);
    if constexpr (requires { e.sparsity; })
      if (e.sparsity > 0) s.sparsity = e.sparsity;
    s.seconds = e.seconds;
    s.samples_per_s = e.samples_per_s;
    epoch_end(s);
  }
  // Ends an unfinished bar line (call before printing anything else).
  void finish();

  ProgressMode mode() const { return mode_; }
  // Sum of the epochs' training seconds reported to epoch_end().
  double train_seconds() const { return train_seconds_; }

 private:
  using Clock = std::chrono::steady_clock;
  void draw(const BarState& s, bool plain);

  ProgressMode mode_;
  int64_t epochs_;
  bool accuracy_;
  int64_t positions_ = 1;
  std::FILE* out_;
  // The current epoch's running sums.
  int64_t epoch_ = -1;
  double loss_sum_ = 0.0;
  int64_t correct_ = 0, samples_ = 0;
  int64_t clip_steps_ = 0, clipped_ = 0;  // steps with a clipper this epoch, and clipped ones
  Clock::time_point mark_;  // construction or the last epoch_end: the next epoch's start
  Clock::time_point epoch_start_, last_draw_;
  double train_seconds_ = 0.0;
  size_t last_len_ = 0;     // bar: length of the line on screen, to blank leftovers
  bool bar_open_ = false;   // bar: a line without '\n' is on screen
  int64_t next_plain_ = 0;  // plain: next step at which a line may be printed
  std::string line_;        // reused buffer
};

}  // namespace sculpt::report

// Progress display: the pure formatters and the throttled bar / plain-line writer.
#include "report/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "core/error.h"

namespace sculpt::report {

namespace {
constexpr auto kBarInterval = std::chrono::milliseconds(100);  // ~10 redraws a second
constexpr auto kPlainInterval = std::chrono::seconds(5);       // logs: not more often
constexpr int kBarWidth = 10;
}  // namespace

ProgressMode resolve_progress_mode(std::string_view mode, bool is_tty) {
  if (mode == "auto") return is_tty ? ProgressMode::kBar : ProgressMode::kPlain;
  if (mode == "bar") return ProgressMode::kBar;
  if (mode == "plain") return ProgressMode::kPlain;
  if (mode == "none") return ProgressMode::kNone;
  throw ConfigError(
      fmt::format("output.progress must be one of auto | bar | plain | none, got \"{}\"", mode));
}

std::string format_eta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const int64_t t = std::llround(seconds);
  const int64_t h = t / 3600, m = (t % 3600) / 60, s = t % 60;
  if (h > 0) return fmt::format("{}:{:02}:{:02}", h, m, s);
  return fmt::format("{}:{:02}", m, s);
}

std::string format_rate(double r) {
  if (!std::isfinite(r) || r < 0) return "?";
  if (r < 999.5) return fmt::format("{:.0f}", r);
  if (r < 999.95e3) return fmt::format("{:.1f}k", r / 1e3);
  return fmt::format("{:.2f}M", r / 1e6);
}

void render_bar(std::string& out, const BarState& s) {
  auto it = std::back_inserter(out);
  fmt::format_to(it, "epoch {}/{} [", s.epoch, s.epochs);
  const int64_t filled =
      s.steps > 0 ? std::clamp<int64_t>(kBarWidth * s.step / s.steps, 0, kBarWidth) : 0;
  out.append(size_t(filled), '#');
  out.append(size_t(kBarWidth - filled), '.');
  fmt::format_to(it, "] {}/{} loss {:.4g}", s.step, s.steps, s.loss);
  if (s.acc) fmt::format_to(it, " acc {:.1f}%", 100.0 * *s.acc);
  fmt::format_to(it, " lr {:.4g}", s.lr);
  if (s.clip_rate) fmt::format_to(it, " clip {:.0f}%", 100.0 * *s.clip_rate);
  fmt::format_to(it, " {} samples/s ETA {}", format_rate(s.samples_per_s), format_eta(s.eta_s));
}

std::string render_bar(const BarState& s) {
  std::string out;
  render_bar(out, s);
  return out;
}

std::string format_epoch_line(const EpochSummary& s) {
  std::string out = fmt::format("epoch {}/{}  loss {:.4g}", s.epoch, s.epochs, s.train_loss);
  auto it = std::back_inserter(out);
  if (s.train_acc) fmt::format_to(it, "  train {:.1f}%", 100.0 * *s.train_acc);
  if (s.val_acc) fmt::format_to(it, "  val {:.1f}%", 100.0 * *s.val_acc);
  if (s.val_loss) fmt::format_to(it, "  val loss {:.4g}", *s.val_loss);
  if (s.test_acc) fmt::format_to(it, "  test {:.1f}%", 100.0 * *s.test_acc);
  if (s.test_loss) fmt::format_to(it, "  test loss {:.4g}", *s.test_loss);
  if (s.clip_rate) fmt::format_to(it, "  clipped {:.0f}%", 100.0 * *s.clip_rate);
  if (s.sparsity) fmt::format_to(it, "  sparsity {:.1f}%", 100.0 * *s.sparsity);
  fmt::format_to(it, "  {:.1f}s  {} samples/s", s.seconds, format_rate(s.samples_per_s));
  return out;
}

Progress::Progress(std::string_view mode, int64_t epochs, bool accuracy, std::FILE* out)
    : mode_(resolve_progress_mode(mode, out && ::isatty(::fileno(out)))),
      epochs_(epochs),
      accuracy_(accuracy),
      out_(out),
      mark_(Clock::now()) {
  if (!out_) mode_ = ProgressMode::kNone;
}

Progress::~Progress() { finish(); }

void Progress::tick(int64_t epoch, int64_t step, int64_t steps, double loss, int64_t correct,
                    int64_t samples, double lr, std::optional<bool> clipped) {
  if (mode_ == ProgressMode::kNone) return;
  const Clock::time_point now = Clock::now();
  if (epoch != epoch_) {
    epoch_ = epoch;
    loss_sum_ = 0.0;
    correct_ = samples_ = 0;
    clip_steps_ = clipped_ = 0;
    epoch_start_ = mark_;
    last_draw_ = now;
    next_plain_ = std::max<int64_t>(1, steps / 10);
  }
  loss_sum_ += loss * double(samples);
  correct_ += correct;
  samples_ += samples;
  if (clipped) {
    ++clip_steps_;
    clipped_ += *clipped;
  }

  bool due = false;
  if (mode_ == ProgressMode::kBar) {
    due = now - last_draw_ >= kBarInterval || step == steps;
  } else if (step >= next_plain_ && step < steps) {  // plain: at ~10% marks, rate-limited
    next_plain_ += std::max<int64_t>(1, steps / 10);
    due = now - last_draw_ >= kPlainInterval;
  }
  if (!due) return;

  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  BarState s;
  s.epoch = epoch;
  s.epochs = epochs_;
  s.step = step;
  s.steps = steps;
  s.lr = lr;
  s.loss = samples_ ? loss_sum_ / double(samples_) : 0.0;
  if (accuracy_ && samples_) s.acc = double(correct_) / double(samples_ * positions_);
  if (clip_steps_ > 0) s.clip_rate = double(clipped_) / double(clip_steps_);
  s.samples_per_s = elapsed > 0 ? double(samples_) / elapsed : 0.0;
  const int64_t remaining = (steps - step) + (epochs_ - epoch) * steps;
  s.eta_s = step > 0 && elapsed > 0 ? elapsed / double(step) * double(remaining) : -1.0;
  draw(s, mode_ == ProgressMode::kPlain);
  last_draw_ = now;
}

void Progress::draw(const BarState& s, bool plain) {
  line_.clear();
  if (!plain) line_ += '\r';
  render_bar(line_, s);
  const size_t len = line_.size();
  if (!plain && len < last_len_) line_.append(last_len_ - len, ' ');  // blank the old tail
  if (plain) line_ += '\n';
  std::fwrite(line_.data(), 1, line_.size(), out_);
  std::fflush(out_);
  last_len_ = len;
  bar_open_ = !plain;
}

void Progress::epoch_end(const EpochSummary& s) {
  train_seconds_ += s.seconds;
  mark_ = Clock::now();
  if (mode_ == ProgressMode::kNone) return;
  line_.clear();
  if (bar_open_) line_ += '\r';
  line_ += format_epoch_line(s);
  if (bar_open_ && line_.size() < last_len_) line_.append(last_len_ - line_.size(), ' ');
  line_ += '\n';
  std::fwrite(line_.data(), 1, line_.size(), out_);
  std::fflush(out_);
  bar_open_ = false;
  last_len_ = 0;
}

void Progress::finish() {
  if (!bar_open_) return;
  std::fputc('\n', out_);
  std::fflush(out_);
  bar_open_ = false;
}

}  // namespace sculpt::report

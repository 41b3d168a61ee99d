// metrics.jsonl: one JSON object per line, {"event": "step"|"epoch"|"eval"|"prune"|"end", ...},
// appended and flushed line by line so a crashed or running job can be read (tail -f, jq).
// Fields that do not apply are omitted rather than written as 0.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sculpt::report {

struct MetricsRecord {
  std::string event{};  // step | epoch | eval | prune | end
  std::optional<int64_t> step{}, epoch{};
  std::optional<double> loss{}, train_acc{}, val_loss{}, val_acc{}, test_loss{}, test_acc{};
  std::optional<double> lr{}, grad_norm{}, sparsity{}, samples_per_s{}, time_s{};
  std::optional<int64_t> clipped{};  // elements or tensors the clipper changed
  std::map<std::string, double> extra{};  // event-specific numbers (e.g. "pruned")
};

// The record as one line of JSON (no newline). Keys in a fixed order: event, step, epoch, the
// losses and accuracies, lr, grad_norm, clipped, sparsity, samples_per_s, time_s, extras.
// Non-finite numbers become null (JSON has no NaN); numbers are the shortest text that reads
// back to the same double.
std::string to_json_line(const MetricsRecord& r);
// The same appended to `out`: no allocation once `out` has grown to a line's size (a training
// step logs through it).
void append_json_line(std::string& out, const MetricsRecord& r);
// One line of metrics.jsonl read back: a JSON object with a string "event"; the known keys fill
// their fields, other numeric keys go to `extra` (null becomes NaN), anything else is ignored.
// Returns nothing for a line that is not such an object (a torn write, garbage).
std::optional<MetricsRecord> parse_metrics_line(std::string_view line);

class MetricsWriter {
 public:
  // Opens `path` (e.g. <run_dir>/metrics.jsonl) for appending. Throws IoError with the reason.
  // `accuracy`: false for regression, where the epoch conveniences then omit *_acc.
  explicit MetricsWriter(const std::string& path, bool accuracy = true);

  // Appends one line and flushes it. Throws IoError if the write fails (disk full).
  void write(const MetricsRecord& r);

  // Conveniences for the trainer's events.
  // E: train::EpochEvent or anything with its fields (epoch, step, train_loss, train_acc,
  // val/test {loss, accuracy, samples}, seconds, samples_per_s). Empty splits are omitted.
  template <class E>
  void epoch(const E& e) {
    write(epoch_record("epoch", e, accuracy_));
  }
  template <class E>
  void end(const E& last, double time_s, double samples_per_s) {
    MetricsRecord r = epoch_record("end", last, accuracy_);
    r.time_s = time_s;
    r.samples_per_s = samples_per_s;
    write(r);
  }

  const std::string& path() const { return path_; }

  template <class E>
  static MetricsRecord epoch_record(std::string event, const E& e, bool accuracy = true) {
    MetricsRecord r;
    r.event = std::move(event);
    r.step = e.step;
    r.epoch = e.epoch;
    r.loss = e.train_loss;
    if (accuracy) r.train_acc = e.train_acc;
    if (e.val.samples > 0) {
      r.val_loss = e.val.loss;
      if (accuracy) r.val_acc = e.val.accuracy;
    }
    if (e.test.samples > 0) {
      r.test_loss = e.test.loss;
      if (accuracy) r.test_acc = e.test.accuracy;
    }
    r.time_s = e.seconds;
    r.samples_per_s = e.samples_per_s;
    return r;
  }

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::string path_;
  bool accuracy_;
  std::unique_ptr<std::FILE, Closer> file_;
  std::string line_;  // reused buffer
};

}  // namespace sculpt::report

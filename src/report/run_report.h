// The run report: charts, a summary table and notes built from one or more run directories,
// rendered as a self-contained HTML page (report/html.h) or as plain text for the terminal.
// With one run a chart shows that run's curves (train/val/test, per layer); with several, every
// chart has one series per run, named by the run directory's name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "report/run_reader.h"
#include "report/svg_plot.h"

namespace sculpt::report {

// At most this many points of a series are drawn; longer ones keep each bucket's min and max.
inline constexpr size_t kMaxDrawnPoints = 400;

struct Chart {
  std::string caption{};  // what it shows, one sentence
  Plot plot{};           // plot.id: loss | accuracy | lr | grad-norm | clip-rate | sparsity | sensitivity
};

struct SummaryRow {
  std::string run{}, optimizer{};
  std::optional<int64_t> epochs{};
  std::optional<double> test_acc{}, val_acc{}, test_loss{}, val_loss{};  // losses: regression
  std::optional<int64_t> params{}, nonzero{};
  std::optional<double> sparsity{}, samples_per_s{}, wall_s{};
  std::vector<FileSize> files{};
  bool finished = false;  // the run wrote its end record
};

struct LayerRow {
  std::string name{};
  int64_t params = 0, kept = 0;
  double sparsity = 0.0;
};

struct RunReport {
  std::vector<RunData> runs;
  std::vector<Chart> charts;     // only charts with data
  std::vector<SummaryRow> rows;  // one per run
  std::vector<LayerRow> layers;  // one run that was pruned: per layer at its end
  std::vector<std::string> notes;  // "<run>: note" with several runs
};

// Builds the report of `runs` (at least one).
RunReport build_report(std::vector<RunData> runs);

// Plain text: one sparkline per series ("loss  train  ▇▅▄▃▂▂▁  0.612 -> 0.274  (10 points)"),
// the summary table, the per-layer table and the notes.
std::string render_text(const RunReport& r);

// The summary table as text cells, shared by the HTML and text renderers: the header, and one
// row per run ("-" where a value is unknown).
std::vector<std::string> summary_header();
std::vector<std::string> summary_cells(const SummaryRow& row);
// "812 B", "1.2 kB", "1.06 MB" (powers of 1000).
std::string format_bytes(int64_t bytes);

// Keeps at most `max_points` of a series (min and max of equal buckets, in x order).
Series thin(Series s, size_t max_points = kMaxDrawnPoints);

}  // namespace sculpt::report

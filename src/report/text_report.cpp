// The report as plain text for terminals: a sparkline per series, the summary and layer tables,
// the notes. Also the summary cells the HTML table shares.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "report/run_report.h"

namespace sculpt::report {

namespace {

constexpr size_t kSparkWidth = 32;

// Eight block heights; each cell is the mean of its bucket of points, scaled to [min, max].
std::string sparkline(const std::vector<double>& y) {
  static const char* const kBlocks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                        "\u2585", "\u2586", "\u2587", "\u2588"};
  std::vector<double> cells;
  const size_t n = y.size(), width = std::min(n, kSparkWidth);
  for (size_t c = 0; c < width; ++c) {
    double sum = 0;
    size_t k = 0;
    for (size_t i = c * n / width; i < (c + 1) * n / width; ++i)
      if (std::isfinite(y[i])) sum += y[i], ++k;
    cells.push_back(k ? sum / double(k) : NAN);
  }
  double lo = INFINITY, hi = -INFINITY;
  for (double v : cells)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  std::string out;
  for (double v : cells) {
    if (!std::isfinite(v)) {
      out += ' ';
      continue;
    }
    const double t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    out += kBlocks[std::clamp(int(std::lround(t * 7)), 0, 7)];
  }
  return out;
}

std::string pct(std::optional<double> v) { return v ? fmt::format("{:.2f}%", 100 * *v) : "-"; }

// An accuracy in %, else a loss (regression), else "-".
std::string score(std::optional<double> acc, std::optional<double> loss) {
  return acc ? pct(acc) : loss ? fmt::format("loss {:.4g}", *loss) : "-";
}

std::string number(std::optional<int64_t> v) { return v ? fmt::format("{}", *v) : "-"; }

std::string file_sizes(const std::vector<FileSize>& files) {
  std::string s;
  for (const FileSize& f : files)
    s += fmt::format("{}{} {}", s.empty() ? "" : ", ", f.path, format_bytes(f.bytes));
  return s.empty() ? "-" : s;
}

// Columns padded to their widest cell, two spaces apart.
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  const auto columns = [](const std::string& s) {  // UTF-8 aware enough for our cells
    return size_t(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
  };
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], columns(row[i]));
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i)
      line += row[i] + std::string(i + 1 < row.size() ? width[i] - columns(row[i]) + 2 : 0, ' ');
    out += "  " + line + "\n";
  }
  return out;
}

}  // namespace

std::string format_bytes(int64_t bytes) {
  if (bytes < 1000) return fmt::format("{} B", bytes);
  if (bytes < 1000000) return fmt::format("{:.1f} kB", double(bytes) / 1e3);
  return fmt::format("{:.2f} MB", double(bytes) / 1e6);
}

std::vector<std::string> summary_header() {
  return {"run",        "optimizer", "epochs",    "test",       "val",    "parameters",
          "non-zeros", "sparsity",  "samples/s", "wall time", "files"};
}

std::vector<std::string> summary_cells(const SummaryRow& r) {
  return {r.run + (r.finished ? "" : " (unfinished)"),
          r.optimizer.empty() ? "-" : r.optimizer,
          number(r.epochs),
          score(r.test_acc, r.test_loss),
          score(r.val_acc, r.val_loss),
          number(r.params),
          number(r.nonzero),
          r.sparsity ? fmt::format("{:.1f}%", 100 * *r.sparsity) : "-",
          r.samples_per_s ? fmt::format("{:.0f}", *r.samples_per_s) : "-",
          r.wall_s ? fmt::format("{:.1f} s", *r.wall_s) : "-",
          file_sizes(r.files)};
}

std::string render_text(const RunReport& r) {
  std::string out = "== report ==\n";
  for (const Chart& c : r.charts) {
    std::vector<std::vector<std::string>> rows;
    for (const Series& s : c.plot.series) {
      const auto first = std::find_if(s.y.begin(), s.y.end(), [](double v) { return std::isfinite(v); });
      const auto last = std::find_if(s.y.rbegin(), s.y.rend(), [](double v) { return std::isfinite(v); });
      rows.push_back({s.name, sparkline(s.y),
                      first == s.y.end() ? "-"
                                         : fmt::format("{:.4g} -> {:.4g}", *first, *last),
                      fmt::format("({} point{})", s.y.size(), s.y.size() == 1 ? "" : "s")});
    }
    out += fmt::format("{} ({}):\n{}", c.plot.title, c.plot.y_label, table(rows));
  }
  std::vector<std::vector<std::string>> rows{summary_header()};
  for (const SummaryRow& row : r.rows) rows.push_back(summary_cells(row));
  out += "summary:\n" + table(rows);
  if (!r.layers.empty()) {
    std::vector<std::vector<std::string>> layers{{"layer", "parameters", "kept", "sparsity"}};
    for (const LayerRow& l : r.layers)
      layers.push_back({l.name, fmt::format("{}", l.params), fmt::format("{}", l.kept),
                        fmt::format("{:.1f}%", 100 * l.sparsity)});
    out += "sparsity per layer:\n" + table(layers);
  }
  for (const std::string& note : r.notes) out += "note: " + note + "\n";
  return out;
}

}  // namespace sculpt::report

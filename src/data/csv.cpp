// CSV reader: tokenise lines, detect the header, resolve the target column, parse numbers with
// std::from_chars (locale independent), then decide the task from the target values.
#include "data/csv.h"

#include <algorithm>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <set>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/limits.h"
#include "core/read_file.h"
#include "core/suggest.h"

namespace sculpt::data {

namespace {

// A cell without the blanks around it and without one pair of enclosing quotes.
std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  s = s.substr(b, e - b);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

// A cell parsed as a double (tiny values then underflow to zero instead of failing) and kept
// as a float: kOk, or why not ("nan", "inf", "", "x" are not numbers; "1e40" is out of range).
enum class Cell { kOk, kNotANumber, kOutOfRange };
Cell parse_number(std::string_view cell, float& out) {
  const char* b = cell.data();
  const char* e = b + cell.size();
  if (b != e && *b == '+') ++b;
  if (b == e) return Cell::kNotANumber;
  double v;
  const auto r = std::from_chars(b, e, v);
  if (r.ptr != e || r.ec == std::errc::invalid_argument) return Cell::kNotANumber;
  if (r.ec != std::errc()) return Cell::kOutOfRange;  // beyond double's range (v is unset)
  if (!std::isfinite(v)) return Cell::kNotANumber;    // "nan", "inf"
  if (std::fabs(v) > double(FLT_MAX)) return Cell::kOutOfRange;
  out = static_cast<float>(v);
  return Cell::kOk;
}

std::vector<std::string> split_cells(std::string_view line) {
  std::vector<std::string> cells;
  for (size_t pos; (pos = line.find(',')) != std::string_view::npos; line.remove_prefix(pos + 1))
    cells.emplace_back(trim(line.substr(0, pos)));
  cells.emplace_back(trim(line));
  return cells;
}

bool decide_header(const std::string& mode, const std::vector<std::string>& first) {
  if (mode == "yes") return true;
  if (mode == "no") return false;
  if (mode != "auto") {
    throw ConfigError("data.header must be auto, yes or no, got '" + mode + "'", "data.header",
                      did_you_mean(mode, {"auto", "yes", "no"}));
  }
  float v;
  return std::any_of(first.begin(), first.end(),
                     [&](const std::string& c) { return parse_number(c, v) != Cell::kOk; });
}

size_t resolve_target(const std::string& target, const std::vector<std::string>& names,
                      size_t columns, const std::string& path) {
  const std::string t = target.empty() ? "-1" : target;
  if (auto it = std::find(names.begin(), names.end(), t); it != names.end()) {
    return static_cast<size_t>(it - names.begin());
  }
  int64_t idx = 0;
  const auto r = std::from_chars(t.data(), t.data() + t.size(), idx);
  if (r.ec == std::errc() && r.ptr == t.data() + t.size()) {
    const int64_t c = static_cast<int64_t>(columns);
    if (idx < -c || idx >= c) {
      throw ConfigError(fmt::format("data.target index {} is outside [-{}, {}) for {} ({} columns)",
                                    idx, c, c, path, c),
                        "data.target");
    }
    return static_cast<size_t>(idx < 0 ? idx + c : idx);
  }
  if (names.empty()) {
    throw ConfigError("data.target '" + t + "' is a column name but " + path + " has no header row",
                      "data.target", "use a column index, or data.header = \"yes\"");
  }
  std::string hint = did_you_mean(t, names);
  if (hint.empty()) {
    hint = "columns are";
    for (size_t i = 0; i < names.size() && i < 12; ++i)
      hint += (i ? ", '" : " '") + excerpt(names[i]) + "'";
    if (names.size() > 12) hint += ", ...";
  }
  throw ConfigError("data.target '" + excerpt(t) + "' is not a column of " + path, "data.target",
                    hint);
}

std::string column_label(const std::vector<std::string>& names, size_t c) {
  return names.empty() ? fmt::format("column {}", c) : "column '" + excerpt(names[c]) + "'";
}

Task decide_task(const std::string& task, const std::vector<float>& t) {
  if (task == "classification") return Task::kClassification;
  if (task == "binary") return Task::kBinary;
  if (task == "regression") return Task::kRegression;
  if (task != "auto") {
    throw ConfigError(
        "data.task must be auto, classification, binary or regression, got '" + task + "'",
        "data.task", did_you_mean(task, {"auto", "classification", "binary", "regression"}));
  }
  if (t.empty()) return Task::kRegression;
  std::set<float> distinct;
  for (const float v : t) {
    if (v < 0 || v != std::floor(v)) return Task::kRegression;
    distinct.insert(v);
    if (distinct.size() > 20) return Task::kRegression;
  }
  return *distinct.rbegin() <= 1.0 ? Task::kBinary : Task::kClassification;
}

// Fills labels (classification/binary) or y (regression) and checks each target fits the task.
void set_targets(Dataset& ds, const std::vector<float>& t, const std::vector<int32_t>& lines,
                 const std::string& where, const std::string& col) {
  const int64_t n = static_cast<int64_t>(t.size());
  if (ds.task == Task::kRegression) {
    ds.num_targets = 1;
    ds.y = Tensor(Shape{n, 1});
    for (int64_t i = 0; i < n; ++i) ds.y[i] = static_cast<float>(t[static_cast<size_t>(i)]);
    return;
  }
  const bool binary = ds.task == Task::kBinary;
  const float max_label = binary ? 1.0f : 1e6f;
  ds.labels.resize(t.size());
  int32_t top = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const float v = t[i];
    if (v < 0 || v > max_label || v != std::floor(v)) {
      throw DataError(
          fmt::format("{} has value {} but task {} needs {}", col, v, task_name(ds.task),
                      binary ? "0 or 1" : "non-negative integer labels"),
          fmt::format("{}:{}", where, lines[i]),
          "set data.task = \"regression\" (or \"auto\") for real-valued targets");
    }
    ds.labels[i] = static_cast<int32_t>(v);
    top = std::max(top, ds.labels[i]);
  }
  ds.num_classes = binary ? 2 : int64_t{top} + 1;
}

// Appends one data row's cells to the table, parsed in place (no copy of the cells: a 256 MiB
// file of short cells stays within the table's own size, 8 bytes per cell).
void append_row(CsvTable& tab, std::string_view line, int64_t no, const std::string& where) {
  const auto found = static_cast<int64_t>(std::count(line.begin(), line.end(), ',')) + 1;
  if (found != tab.cols) {
    throw DataError(
        fmt::format("expected {} columns (as in the first row), found {}", tab.cols, found),
        fmt::format("{}:{}", where, no), "every row needs the same number of cells");
  }
  tab.lines.push_back(static_cast<int32_t>(no));
  for (int64_t c = 0; c < tab.cols; ++c) {
    const size_t pos = std::min(line.find(','), line.size());
    const std::string_view cell = trim(line.substr(0, pos));
    line.remove_prefix(std::min(pos + 1, line.size()));
    float v;
    if (const Cell got = parse_number(cell, v); got != Cell::kOk) {
      const std::string what =
          got == Cell::kOutOfRange ? "is outside float's range (3.4e38)" : "has non-numeric value";
      throw DataError(column_label(tab.names, size_t(c)) + " " + what + " '" + excerpt(cell) + "'",
                      fmt::format("{}:{}", where, no),
                      "cells must be finite numbers; impute or drop missing values");
    }
    tab.cells.push_back(v);
  }
}

Dataset dataset_from_table(const CsvTable& tab, const std::string& path,
                           const CsvOptions& options) {
  SCULPT_CHECK(tab.cols >= 2, DataError,
               fmt::format("needs at least 2 columns (features and a target), found {}", tab.cols),
               path, "cells must be separated by commas");
  const size_t target = resolve_target(options.target, tab.names, size_t(tab.cols), path);
  const int64_t n = tab.rows;
  const int64_t f = tab.cols - 1;
  Dataset ds;
  ds.name = path;
  ds.sample_shape = {f};
  ds.x = Tensor(Shape{n, f});
  std::vector<float> t(static_cast<size_t>(n));
  float* xr = ds.x.data();
  for (int64_t i = 0; i < n; ++i) {
    for (size_t c = 0; c < size_t(tab.cols); ++c) {
      const float v = tab.cells[size_t(i * tab.cols) + c];
      if (c == target)
        t[static_cast<size_t>(i)] = v;
      else
        *xr++ = v;
    }
  }
  ds.task = decide_task(options.task, t);
  set_targets(ds, t, tab.lines, path, column_label(tab.names, target));
  return ds;
}

}  // namespace

CsvTable read_csv_table(const std::string& path, const std::string& header) {
  const std::string text = read_file_capped(path, {.what = "CSV file",
                                                   .max_bytes = kMaxCsvBytes,
                                                   .hint = "check data.path (and data.test_path)"});
  return parse_csv_table(text, path, header);
}

CsvTable parse_csv_table(std::string_view text, const std::string& where,
                         const std::string& header) {
  // Within the limit, line numbers fit in 32 bits.
  SCULPT_CHECK(int64_t(text.size()) <= kMaxCsvBytes, DataError,
               fmt::format("{} of CSV text, more than the limit of {}",
                           human_bytes_binary(double(text.size())),
                           human_bytes_binary(double(kMaxCsvBytes))),
               where, "split the file");
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 BOM
  // Reserved once: a row has at most one more cell than it has commas.
  const auto commas = static_cast<size_t>(std::count(text.begin(), text.end(), ','));
  const auto newlines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  CsvTable tab;
  bool first = true;
  int64_t no = 0;
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    ++no;
    if (trim(line).empty()) continue;
    if (first) {
      first = false;
      std::vector<std::string> cells = split_cells(line);
      tab.cols = static_cast<int64_t>(cells.size());
      tab.cells.reserve(commas + newlines + 1);
      tab.lines.reserve(newlines + 1);
      if (decide_header(header, cells)) {
        tab.names = std::move(cells);
        continue;
      }
    }
    append_row(tab, line, no, where);
  }
  SCULPT_CHECK(!first, DataError, "the file is empty (no rows)", where, "check data.path");
  SCULPT_CHECK(!tab.lines.empty(), DataError, "the file has a header but no data rows", where);
  tab.rows = static_cast<int64_t>(tab.lines.size());
  return tab;
}

Dataset load_csv(const std::string& path, const CsvOptions& options) {
  decide_task(options.task, {});  // validates the option before reading the file
  return dataset_from_table(read_csv_table(path, options.header), path, options);
}

Dataset parse_csv(std::string_view text, const std::string& where, const CsvOptions& options) {
  decide_task(options.task, {});
  return dataset_from_table(parse_csv_table(text, where, options.header), where, options);
}

}  // namespace sculpt::data

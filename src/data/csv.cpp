// CSV reader: tokenise lines, detect the header, resolve the target column, parse numbers with
// std::from_chars (locale independent), then decide the task from the target values.
#include "data/csv.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <set>
#include <sstream>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/limits.h"
#include "core/read_file.h"
#include "core/suggest.h"

namespace sculpt::data {

namespace {

struct Row {
  int64_t line = 0;  // 1-based line in the file
  std::vector<std::string> cells;
};

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  s = s.substr(b, e - b);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return std::string(s);
}

// A finite number, whole cell consumed; nullopt otherwise (including "nan", "inf", "").
bool parse_number(const std::string& cell, double& out) {
  const char* b = cell.data();
  const char* e = b + cell.size();
  if (b != e && *b == '+') ++b;
  if (b == e) return false;
  const auto r = std::from_chars(b, e, out);
  return r.ec == std::errc() && r.ptr == e && std::isfinite(out);
}

std::vector<Row> read_rows(std::istream& in, const std::string& path) {
  std::vector<Row> rows;
  std::string line;
  for (int64_t no = 1; std::getline(in, line); ++no) {
    if (no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 BOM
    if (trim(line).empty()) continue;
    Row r{no, {}};
    std::string_view rest = line;
    for (size_t pos; (pos = rest.find(',')) != std::string_view::npos;
         rest.remove_prefix(pos + 1)) {
      r.cells.push_back(trim(rest.substr(0, pos)));
    }
    r.cells.push_back(trim(rest));
    rows.push_back(std::move(r));
  }
  if (in.bad()) throw IoError("error while reading " + path);
  if (rows.empty()) throw DataError("the file is empty (no rows)", path, "check data.path");
  return rows;
}

bool decide_header(const std::string& mode, const Row& first) {
  if (mode == "yes") return true;
  if (mode == "no") return false;
  if (mode != "auto") {
    throw ConfigError("data.header must be auto, yes or no, got '" + mode + "'", "data.header",
                      did_you_mean(mode, {"auto", "yes", "no"}));
  }
  double v;
  return std::any_of(first.cells.begin(), first.cells.end(),
                     [&](const std::string& c) { return !parse_number(c, v); });
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

Task decide_task(const std::string& task, const std::vector<double>& t) {
  if (task == "classification") return Task::kClassification;
  if (task == "binary") return Task::kBinary;
  if (task == "regression") return Task::kRegression;
  if (task != "auto") {
    throw ConfigError(
        "data.task must be auto, classification, binary or regression, got '" + task + "'",
        "data.task", did_you_mean(task, {"auto", "classification", "binary", "regression"}));
  }
  if (t.empty()) return Task::kRegression;
  std::set<double> distinct;
  for (double v : t) {
    if (v < 0 || v != std::floor(v)) return Task::kRegression;
    distinct.insert(v);
    if (distinct.size() > 20) return Task::kRegression;
  }
  return *distinct.rbegin() <= 1.0 ? Task::kBinary : Task::kClassification;
}

// Fills labels (classification/binary) or y (regression) and checks each target fits the task.
void set_targets(Dataset& ds, const std::vector<double>& t, const std::vector<int64_t>& lines,
                 const std::string& where, const std::string& col) {
  const int64_t n = static_cast<int64_t>(t.size());
  if (ds.task == Task::kRegression) {
    ds.num_targets = 1;
    ds.y = Tensor(Shape{n, 1});
    for (int64_t i = 0; i < n; ++i) ds.y[i] = static_cast<float>(t[static_cast<size_t>(i)]);
    return;
  }
  const bool binary = ds.task == Task::kBinary;
  const double max_label = binary ? 1.0 : 1e6;
  ds.labels.resize(t.size());
  int32_t top = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const double v = t[i];
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

CsvTable table_from_rows(const std::vector<Row>& rows, const std::string& path,
                         const std::string& header) {
  CsvTable tab;
  if (decide_header(header, rows.front())) tab.names = rows.front().cells;
  const size_t first = tab.names.empty() ? 0 : 1;
  SCULPT_CHECK(rows.size() > first, DataError, "the file has a header but no data rows", path);
  tab.cols = static_cast<int64_t>(rows.front().cells.size());
  tab.rows = static_cast<int64_t>(rows.size() - first);
  SCULPT_CHECK(checked_numel(std::array{tab.rows, tab.cols}) >= 0, DataError,
               fmt::format("{} rows of {} cells are more than the limit of {}", tab.rows, tab.cols,
                           kMaxTensorText),
               path, "split the file or keep fewer columns");
  tab.cells.resize(static_cast<size_t>(tab.rows * tab.cols));
  tab.lines.resize(static_cast<size_t>(tab.rows));
  double* cell = tab.cells.data();
  for (size_t i = first; i < rows.size(); ++i) {
    const Row& r = rows[i];
    tab.lines[i - first] = r.line;
    if (static_cast<int64_t>(r.cells.size()) != tab.cols) {
      throw DataError(fmt::format("expected {} columns (as in the first row), found {}", tab.cols,
                                  r.cells.size()),
                      fmt::format("{}:{}", path, r.line),
                      "every row needs the same number of cells");
    }
    for (size_t c = 0; c < r.cells.size(); ++c) {
      if (!parse_number(r.cells[c], *cell++)) {
        throw DataError(
            column_label(tab.names, c) + " has non-numeric value '" + excerpt(r.cells[c]) + "'",
            fmt::format("{}:{}", path, r.line),
            "cells must be finite numbers; impute or drop missing values");
      }
    }
  }
  return tab;
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
  std::vector<double> t(static_cast<size_t>(n));
  float* xr = ds.x.data();
  for (int64_t i = 0; i < n; ++i) {
    for (size_t c = 0; c < size_t(tab.cols); ++c) {
      const double v = tab.cells[size_t(i * tab.cols) + c];
      if (c == target)
        t[static_cast<size_t>(i)] = v;
      else
        *xr++ = static_cast<float>(v);
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
  std::istringstream in{std::string(text)};
  return table_from_rows(read_rows(in, where), where, header);
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

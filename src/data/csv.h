// CSV datasets: numeric columns separated by commas (whitespace around cells ignored), an
// optional header row, one target column; the rest are features ([N, F], sample_shape {F}).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/dataset.h"

namespace sculpt::data {

struct CsvOptions {
  // Column name (needs a header) or integer index; negative counts from the end (-1 = last).
  std::string target = "-1";
  // "auto": the first row is a header when any of its cells is not a finite number.
  std::string header = "auto";  // auto | yes | no
  // classification: non-negative integer targets, num_classes = max + 1.
  // binary: targets in {0, 1}. regression: y [N, 1].
  // auto: integers >= 0 with at most 20 distinct values -> binary when all are 0/1, else
  // classification; anything else -> regression.
  std::string task = "auto";  // auto | classification | binary | regression
};

// The cells of a CSV file as numbers: rows x cols, row-major, with the header's names (empty
// without a header) and each row's 1-based line in the file. Errors as load_csv. Cells are
// parsed in place into floats: the table takes 4 bytes per cell and 4 per row, at most three
// times the file's size (and a Dataset made from it as much again).
struct CsvTable {
  std::vector<std::string> names;
  int64_t rows = 0, cols = 0;
  std::vector<float> cells;
  std::vector<int32_t> lines;
};
CsvTable read_csv_table(const std::string& path, const std::string& header = "auto");
// The same on the text of a file in memory; messages name `where` as they would the file.
CsvTable parse_csv_table(std::string_view text, const std::string& where,
                         const std::string& header = "auto");

// Reads `path` (at most kMaxCsvBytes, core/limits.h). Blank lines are skipped; quotes around a cell
// are stripped (no quoted commas). Throws IoError when the file cannot be read; ConfigError for bad
// options (naming data.target / data.header / data.task, with a did-you-mean hint); DataError
// "<file>:<line>: ..." for non-numeric or non-finite cells, ragged rows, targets that do not
// fit the task, and for empty files. Line numbers are 1-based and count the header line.
Dataset load_csv(const std::string& path, const CsvOptions& options);
Dataset parse_csv(std::string_view text, const std::string& where, const CsvOptions& options);

}  // namespace sculpt::data

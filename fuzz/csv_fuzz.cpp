// Fuzz target: the CSV reader, from the text to a Dataset (header detection, target column,
// task decision). The task option cycles with the input size so that each rule is explored.
#include "data/csv.h"
#include "fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kTasks[] = {"auto", "classification", "binary", "regression"};
  sculpt::data::CsvOptions options;
  options.task = kTasks[size % 4];
  return sculpt::fuzz::expect_clean_errors(
      [&] { sculpt::data::parse_csv(sculpt::fuzz::as_bytes(data, size), "fuzz.csv", options); });
}

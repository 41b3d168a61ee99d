// Internal to the CLI: the inference cases of `sculpt bench` (bench_infer.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sculpt::cli {

struct InferBenchArgs {
  std::string name;              // infer | infer-mlp-b1 | ... | export-size-95
  std::string model;             // infer, infer-trained95-*, infer-lenet90-*: the export file
  std::vector<int64_t> batches;  // infer: batch sizes
  int threads = 2;
  int reps = 1;
  bool json = false;
  std::string data;  // infer-trained95-*, infer-lenet90-*: the Fashion-MNIST directory
};

bool is_infer_case(const std::string& name);
// The median of a non-empty list (the upper one of an even count), as every case reports.
double median_of(std::vector<double> v);
int run_infer_bench(const InferBenchArgs& a);

}  // namespace sculpt::cli

// Internal to the CLI: the MLP training cases' models and the GEMM bound of one training step
// (bench_gemm.cpp), which `sculpt bench` and bench/run use to say how close a training step
// comes to the GEMM work it cannot avoid.
#pragma once

#include <cstdint>
#include <string>

#include "nn/model.h"

namespace sculpt::cli {

// train-mlp / gemm-bound-mlp: model A of PEERS.md (784-300-100-10, ReLU); train-mlp-wide /
// gemm-bound-mlp-wide: 784-4096-4096-10, ReLU.
bool is_mlp_case(const std::string& name);
bool is_gemm_bound_case(const std::string& name);
nn::ModelSpec bench_mlp_spec(const std::string& name);

struct GemmBoundArgs {
  std::string name;  // gemm-bound-mlp | gemm-bound-mlp-wide
  int64_t batch = 128;
  int threads = 2;
  int reps = 1;
  bool json = false;
};

// Times the GEMMs of one training step of the case's MLP at `batch` samples, exactly as the
// Linear layers call them (forward, backward-weights, backward-data except into the input), and
// nothing else; samples/s of that is the bound a training step's samples/s is a fraction of.
int run_gemm_bound(const GemmBoundArgs& a);

}  // namespace sculpt::cli

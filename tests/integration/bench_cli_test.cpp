// `sculpt bench`'s MLP cases as ./bench/run drives them: gemm-bound-mlp does the GEMM work of
// one training step (two GEMMs for the first layer, which needs no gradient into the input,
// three for the others) at --batch, and the train cases train at --batch; a bad --batch is one
// clear error.
#include <gtest/gtest.h>

#include <string>

#include "integration/cli_harness.h"

namespace sculpt::testing {
namespace {

nlohmann::json bench_json(const std::string& args) {
  const CliResult r = run_cli("bench " + args + " --reps 1 --threads 1 --json");
  EXPECT_EQ(r.code, 0) << r.output;
  return nlohmann::json::parse(r.output.substr(r.output.find('{')));
}

TEST(BenchCli, TheGemmBoundCountsTheStepsGemmsAtTheBatch) {
  const nlohmann::json j = bench_json("gemm-bound-mlp --batch 32");
  EXPECT_EQ(j["batch"], 32);
  // 784-300-100-10: multiply-adds a sample, forward + dW everywhere, dx but into the input.
  const double fwd = 784 * 300 + 300 * 100 + 100 * 10, first = 784 * 300;
  EXPECT_DOUBLE_EQ(j["flops_per_sample"].get<double>(), 2.0 * (3 * fwd - first));
  EXPECT_GT(j["samples_per_s"].get<double>(), 0.0);
  const nlohmann::json wide = bench_json("gemm-bound-mlp-wide --batch 8");
  const double wfwd = 784.0 * 4096 + 4096.0 * 4096 + 4096 * 10;
  EXPECT_DOUBLE_EQ(wide["flops_per_sample"].get<double>(), 2.0 * (3 * wfwd - 784.0 * 4096));
}

TEST(BenchCli, TrainCasesTrainAtTheBatchGivenAndRefuseABadOne) {
  const nlohmann::json j = bench_json("train-mlp --batch 1024");
  EXPECT_EQ(j["batch"], 1024);
  EXPECT_EQ(j["samples"], 60000);
  CliResult r = run_cli("bench gemm-bound-mlp --batch 0 --reps 1");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--batch must be in [1, 65536], got 0"), std::string::npos) << r.output;
  r = run_cli("bench train-mlp --batch 64 --batch 128 --reps 1");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("takes one --batch"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sculpt::testing

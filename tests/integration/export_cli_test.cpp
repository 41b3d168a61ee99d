// Export and inference end to end: a pruned Fashion-MNIST MLP exported (fp32 and fp16) and run
// by `sculpt infer`, the C++ example and `sculpt bench infer` gives the checkpoint's own
// accuracy; the trained-model cases of `sculpt bench` (infer-trained95-*, infer-lenet90-*) run
// the export they are given and report its test accuracy; export-size-95-fp16 reports the fp16
// export; a CSV-trained model infers from CSV rows; damaged, truncated, future-version and
// mismatched inputs are one clear error line with a non-zero exit code.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "cli_harness.h"
#include "core/rng.h"
#include "skip.h"

namespace sculpt::testing {
namespace {

// The last line of `text` that is a JSON object (null when there is none).
nlohmann::json last_json(const std::string& text) {
  nlohmann::json out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (text[start] == '{')
      out = nlohmann::json::parse(text.substr(start, end - start), nullptr, false);
    start = end + 1;
  }
  return out;
}

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// Exactly one line, naming what is wrong.
void expect_one_error(const CliResult& r, const std::string& part) {
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_NE(r.code, 1) << "an internal error: " << r.output;
  EXPECT_NE(r.output.find(part), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

class ExportCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!have_fashion()) return;
    dir_ = new TempDir("export");
    CliResult r = run_cli("train --recipe " + recipe_path("mlp.toml") + " --out " +
                          dir_->file("dense") + kSmallFashion + " --set train.epochs=2");
    ASSERT_EQ(r.code, 0) << r.output;
    r = run_cli("prune --checkpoint " + dir_->file("dense") + " --sparsity 0.95 " +
                "--finetune-epochs 1 --out " + pruned());
    ASSERT_EQ(r.code, 0) << r.output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    SCULPT_REQUIRE(
        have_fashion(),
        "Fashion-MNIST is not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  }
  static std::string pruned() { return dir_->file("p95"); }
  static std::string file(const std::string& name) { return dir_->file(name); }
  static std::string images() { return std::string(kFashionDir) + "/t10k-images-idx3-ubyte.gz"; }
  static TempDir* dir_;
};
TempDir* ExportCli::dir_ = nullptr;

TEST_F(ExportCli, ExportAndInferReproduceTheCheckpoint) {
  const CliResult ex = run_cli("export --checkpoint " + pruned());
  ASSERT_EQ(ex.code, 0) << ex.output;
  EXPECT_NE(ex.output.find("the same prediction on 2000,"), std::string::npos) << ex.output;
  const std::string model = pruned() + "/model.sculpt";
  ASSERT_TRUE(std::filesystem::exists(model));
  // The whole test file: `sculpt eval` of the checkpoint on all 10,000 images agrees.
  const CliResult ev = run_cli("eval --model " + pruned() + " --set data.limit_test=0");
  ASSERT_EQ(ev.code, 0) << ev.output;
  const double want = percent_after(ev.output, "accuracy:");
  ASSERT_GT(want, 50.0) << ev.output;
  for (const char* kernels : {"auto", "dense", "sparse"}) {
    for (const char* batch : {"1", "256"}) {
      const CliResult in = run_cli(fmt::format(
          "infer --model {} --input {} --kernels {} --batch {}", model, images(), kernels, batch));
      ASSERT_EQ(in.code, 0) << in.output;
      EXPECT_EQ(percent_after(in.output, "accuracy:"), want) << kernels << " " << batch;
    }
  }
  const CliResult cpp = run_cli_binary(SCULPT_INFER_EXAMPLE, model + " " + kFashionDir);
  ASSERT_EQ(cpp.code, 0) << cpp.output;
  EXPECT_EQ(percent_after(cpp.output, "right:"), want) << cpp.output;
  // At 95% the first layer runs sparse, and the bench compares both kernels.
  const CliResult b = run_cli("bench infer --model " + model + " --batch 1 --reps 1");
  ASSERT_EQ(b.code, 0) << b.output;
  EXPECT_TRUE(std::regex_search(b.output, std::regex("fc1\\+relu\\s+linear\\s+sparse")))
      << b.output;
  EXPECT_TRUE(std::regex_search(b.output, std::regex("\\n\\s+1\\s+[0-9.]+\\s+[0-9.]+\\s+[0-9.]+x")))
      << b.output;
}

// The ./bench/run cases on a trained model run the export they are given, on the test images,
// and report the accuracy `sculpt infer` gives it over the same 10,000 images: the figure the
// peer's accuracy is checked against.
TEST_F(ExportCli, BenchTrainedCasesRunTheGivenExport) {
  const std::string model = file("bench.sculpt");
  ASSERT_EQ(run_cli("export --checkpoint " + pruned() + " -o " + model).code, 0);
  const CliResult in = run_cli("infer --model " + model + " --input " + images());
  ASSERT_EQ(in.code, 0) << in.output;
  const double want = percent_after(in.output, "accuracy:");
  std::smatch nz;
  ASSERT_TRUE(std::regex_search(in.output, nz, std::regex("\\(([0-9]+) of ([0-9]+) parameters")))
      << in.output;
  for (const char* name : {"infer-trained95-b1", "infer-trained95-b256", "infer-lenet90-b1"}) {
    const CliResult b = run_cli(fmt::format("bench {} --model {} --reps 1 --json", name, model));
    ASSERT_EQ(b.code, 0) << b.output;
    const nlohmann::json j = last_json(b.output);
    ASSERT_TRUE(j.is_object()) << b.output;
    EXPECT_EQ(j["case"], name);
    EXPECT_EQ(j["batch"], std::string(name).ends_with("-b1") ? 1 : 256);
    EXPECT_EQ(j["test_samples"], 10000);
    EXPECT_NEAR(100.0 * j["test_acc"].get<double>(), want, 0.005) << b.output;
    EXPECT_EQ(j["nonzeros"], std::stoll(nz[1])) << b.output;
    EXPECT_EQ(j["params"], std::stoll(nz[2])) << b.output;
    // At 95% the first layer runs sparse under `auto`, the figure; dense is timed as well.
    EXPECT_NE(j["kernels"].get<std::string>().find("fc1+relu:sparse"), std::string::npos)
        << b.output;
    EXPECT_GT(j["samples_per_s"].get<double>(), 0.0);
    EXPECT_GT(j["dense_samples_per_s"].get<double>(), 0.0);
    EXPECT_NEAR(j["vs_dense"].get<double>(),
                j["samples_per_s"].get<double>() / j["dense_samples_per_s"].get<double>(),
                1e-6 * j["vs_dense"].get<double>());
  }
  expect_one_error(run_cli("bench infer-trained95-b1 --reps 1"), "needs --model");
  expect_one_error(run_cli("bench infer-lenet90-b1 --reps 1 --model " + file("none.sculpt")),
                   "cannot read the model");
}

TEST_F(ExportCli, Fp16AndFormatsTradeSizeAsReported) {
  const std::string dense = file("dense.sculpt"), auto32 = file("auto.sculpt"),
                    half = file("half.sculpt");
  const CliResult d = run_cli("export --checkpoint " + pruned() + " --format dense -o " + dense);
  const CliResult a = run_cli("export --checkpoint " + pruned() + " -o " + auto32);
  const CliResult h = run_cli("export --checkpoint " + pruned() + " --fp16 -o " + half);
  ASSERT_EQ(d.code, 0) << d.output;
  ASSERT_EQ(a.code, 0) << a.output;
  ASSERT_EQ(h.code, 0) << h.output;
  const auto sd = std::filesystem::file_size(dense), sa = std::filesystem::file_size(auto32),
             sh = std::filesystem::file_size(half);
  EXPECT_GT(sd, 5 * sa) << "95% sparse: the auto export must be far smaller than dense";
  EXPECT_LT(sh, sa);
  EXPECT_GT(sh, sa / 2);
  // fp16 reports its accuracy change; fp32 never changes anything.
  EXPECT_NE(a.output.find("change +0.00 points"), std::string::npos) << a.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(h.output, m, std::regex("change ([-+][0-9.]+) points")))
      << h.output;
  EXPECT_LE(std::abs(std::stod(m[1])), 0.5) << h.output;
}

TEST_F(ExportCli, BadModelFilesAreOneClearError) {
  const std::string good = file("good.sculpt");
  ASSERT_EQ(run_cli("export --checkpoint " + pruned() + " -o " + good).code, 0);
  const std::string bytes = read_bytes(good);
  auto infer = [&](const std::string& model) {
    return run_cli("infer --model " + model + " --input " + images());
  };
  write_bytes(file("cut.sculpt"), bytes.substr(0, bytes.size() / 2));
  expect_one_error(infer(file("cut.sculpt")), "truncated");
  std::string flipped = bytes;
  flipped[flipped.size() - 100] ^= 0x01;
  write_bytes(file("flip.sculpt"), flipped);
  expect_one_error(infer(file("flip.sculpt")), "CRC32");
  std::string future = bytes;
  future[8] = 7;
  write_bytes(file("future.sculpt"), future);
  expect_one_error(infer(file("future.sculpt")), "version 7 is not supported");
  expect_one_error(infer(pruned() + "/checkpoints/last.safetensors"), "sculpt export --checkpoint");
  expect_one_error(infer(file("missing.sculpt")), "cannot read the model");
  // Inputs that do not fit: labels as images, a CSV of the wrong width.
  expect_one_error(
      run_cli("infer --model " + good + " --input " + kFashionDir + "/t10k-labels-idx1-ubyte.gz"),
      "bad magic number");
  const std::string csv = dir_->write("wide.csv", "1,2,3\n4,5,6\n");
  expect_one_error(run_cli("infer --model " + good + " --input " + csv),
                   "the model takes 784 features");
}

}  // namespace

// export-size-95-fp16 is the fp16 export of the model export-size-95 measures in fp32: smaller,
// but more than half the size (the indices stay), and the two cases agree on every size.
TEST(BenchSize, Fp16CaseReportsTheFp16Export) {
  const CliResult a = run_cli("bench export-size-95 --json");
  const CliResult h = run_cli("bench export-size-95-fp16 --json");
  ASSERT_EQ(a.code, 0) << a.output;
  ASSERT_EQ(h.code, 0) << h.output;
  const nlohmann::json ja = last_json(a.output), jh = last_json(h.output);
  ASSERT_TRUE(ja.is_object() && jh.is_object()) << a.output << h.output;
  EXPECT_EQ(ja["dtype"], "f32");
  EXPECT_EQ(jh["dtype"], "f16");
  EXPECT_EQ(ja["bytes"], ja["fp32_bytes"]);
  EXPECT_EQ(jh["bytes"], jh["fp16_bytes"]);
  EXPECT_EQ(jh["bytes"], ja["fp16_bytes"]);
  EXPECT_EQ(jh["fp32_bytes"], ja["bytes"]);
  EXPECT_EQ(jh["dense_bytes"], ja["dense_bytes"]);
  const auto fp32 = ja["bytes"].get<int64_t>(), fp16 = jh["bytes"].get<int64_t>();
  EXPECT_LT(fp16, fp32);
  EXPECT_GT(2 * fp16, fp32);
  EXPECT_NEAR(jh["vs_dense"].get<double>(), jh["dense_bytes"].get<double>() / double(fp16), 1e-9);
}

// A binary classifier trained on a CSV file, exported, run on its own rows (labels in the last
// column) and on the features alone (one prediction a line).
TEST(ExportCsv, InfersFromCsvRows) {
  TempDir dir("export-csv");
  std::string with_labels = "a,b,c,label\n", features = "";
  Rng rng(3);
  for (int i = 0; i < 400; ++i) {
    const double a = rng.uniform(), b = rng.uniform(), c = rng.uniform();
    with_labels += fmt::format("{},{},{},{}\n", a, b, c, a + b > 1.0 ? 1 : 0);
    if (i < 5) features += fmt::format("{},{},{}\n", a, b, c);
  }
  const std::string data = dir.write("train.csv", with_labels);
  const std::string run = dir.file("run");
  CliResult r = run_cli("train --recipe " + recipe_path("binary.toml") + " --out " + run +
                        " --set data.source=csv --set data.path=" + data +
                        " --set train.epochs=30 --set output.progress=none");
  ASSERT_EQ(r.code, 0) << r.output;
  r = run_cli("export --checkpoint " + run);
  ASSERT_EQ(r.code, 0) << r.output;
  const double checked = percent_after(r.output, "accuracy:");
  EXPECT_GT(checked, 85.0) << r.output;
  r = run_cli("infer --model " + run + "/model.sculpt --input " + data);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_GT(percent_after(r.output, "accuracy:"), 85.0) << r.output;
  EXPECT_NE(r.output.find("of 400)"), std::string::npos) << r.output;
  const std::string only = dir.write("features.csv", features);
  const std::string preds = dir.file("preds.csv");
  r = run_cli("infer --model " + run + "/model.sculpt --input " + only + " --out " + preds);
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream f(preds);
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line, "sample,class");
  int rows = 0;
  while (std::getline(f, line)) {
    EXPECT_TRUE(std::regex_match(line, std::regex(std::to_string(rows) + ",[01]"))) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 5);
}

}  // namespace sculpt::testing

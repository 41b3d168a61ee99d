// The inference half of `sculpt bench`: `infer --model M` (dense vs sparse kernels on an
// export), the ./bench/run cases infer-mlp-b1/b256, infer-sparse95-b1/b256, export-size-95 and
// export-size-95-fp16 on model A (the MLP 784-300-100-10 of PEERS.md), and
// infer-trained95-b1/b256, infer-lenet90-b1/b256 on a trained and pruned export (--model) fed
// Fashion-MNIST test images, and infer-lstm-b1, infer-lstm80-b1: one generated token of the
// character LSTM, dense and 80% pruned.
#include "cli/bench_infer.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "char_lstm_recipe.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "data/idx.h"
#include "infer/inference_model.h"
#include "io/recipe.h"
#include "nn/model.h"
#include "train/trainer.h"

namespace sculpt::cli {

namespace {

constexpr double kSparsity = 0.95;

// Zeroes the smallest-magnitude `sparsity` fraction of v.
void zero_smallest(std::vector<float>& v, double sparsity) {
  std::vector<float> mag(v.size());
  std::transform(v.begin(), v.end(), mag.begin(), [](float x) { return std::abs(x); });
  const auto cut = size_t(std::llround(sparsity * double(v.size())));
  std::nth_element(mag.begin(), mag.begin() + cut, mag.end());
  const float threshold = mag[cut];
  for (float& x : v)
    if (std::abs(x) < threshold) x = 0.0f;
}

// Model A with PyTorch's default initialisation; with `sparsity` > 0 the smallest-magnitude
// fraction of each weight matrix is zeroed (per layer, so every layer keeps 5%: 13,310 of the
// 266,200 weights). Biases stay dense.
infer::ExportModel model_a(double sparsity) {
  infer::ExportModel m;
  infer::ExportHeader& h = m.header;
  h.input = {1, 28, 28};
  h.task = "classification";
  h.outputs = 10;
  h.input_format = "idx";
  nn::Model model = nn::Model::build(nn::builtin_model("mlp", 10), h.input);
  ParamStore ps;
  model.declare(ps);
  ps.finalize();
  Rng rng(7);
  model.init(ps, rng);
  h.spec = nn::builtin_model("mlp", 10);
  for (size_t i = 0; i < model.size(); ++i) h.spec.layers[i].name = model.layer(i).name();
  for (size_t i = 0; i < ps.count(); ++i) {
    const ParamEntry& e = ps.entry(i);
    std::vector<float> v(ps.value(i), ps.value(i) + e.size);
    if (sparsity > 0.0 && e.shape.size() == 2) zero_smallest(v, sparsity);
    m.tensors.push_back({e.name, e.shape, std::move(v)});
  }
  return m;
}

// infer-lstm-b1 and infer-lstm80-b1: the character LSTM of recipes/char-lstm.toml as built in
// (char_lstm_recipe.h: embedding 64, LSTM 256, dropout 0.2, LSTM 256, linear when this was
// written) over the 113 characters of Debian's fortunes, initialised as training does (seed 7);
// lstm80 zeroes 80% of every gate matrix and of the output layer's weight by magnitude (per
// matrix, as the 80% row of docs/pruning.md prunes).
constexpr int64_t kLstmVocab = 113;
constexpr double kLstmSparsity = 0.8;

bool is_lstm_case(const std::string& name) {
  return name == "infer-lstm-b1" || name == "infer-lstm80-b1";
}

infer::ExportModel char_lstm(double sparsity) {
  const RecipeConfig recipe = parse_recipe(kCharLstmRecipe, "recipes/char-lstm.toml (bench)");
  data::Dataset text;  // what resolve_for_data reads of the data: the vocabulary
  text.num_classes = kLstmVocab;
  infer::ExportModel m;
  infer::ExportHeader& h = m.header;
  h.spec = train::resolve_for_data(recipe.model.custom, text);
  h.input = {recipe.data.steps};
  h.task = "classification";
  h.outputs = recipe.data.steps * kLstmVocab;
  h.input_format = "text";
  nn::Model model = nn::Model::build(h.spec, h.input);
  ParamStore ps;
  model.declare(ps);
  ps.finalize();
  Rng rng(7);
  model.init(ps, rng);
  for (size_t i = 0; i < model.size(); ++i) h.spec.layers[i].name = model.layer(i).name();
  const std::string embedding = model.layer(0).name() + ".";
  for (size_t i = 0; i < ps.count(); ++i) {
    const ParamEntry& e = ps.entry(i);
    std::vector<float> v(ps.value(i), ps.value(i) + e.size);
    if (sparsity > 0.0 && e.shape.size() == 2 && !e.name.starts_with(embedding))
      zero_smallest(v, sparsity);
    m.tensors.push_back({e.name, e.shape, std::move(v)});
  }
  return m;
}

// The microseconds of one generated token (step(): the embedding, both LSTM steps from the
// state the last one left, the output layer), for each of `reps` runs of 0.5 s after 0.3 s of
// warm-up; the tokens fed cycle through the vocabulary.
std::vector<double> time_steps(infer::InferenceModel& m, int reps) {
  using Clock = std::chrono::steady_clock;
  m.start();
  int32_t token = 0;
  float sink = 0.0f;
  auto run_for = [&](double seconds) {
    const auto t0 = Clock::now();
    int64_t calls = 0;
    double elapsed = 0.0;
    do {
      for (int i = 0; i < 8; ++i) {
        sink += m.step(token)[0];
        token = int32_t((token * 7 + 3) % kLstmVocab);
      }
      calls += 8;
      elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (elapsed < seconds);
    return elapsed / double(calls) * 1e6;
  };
  run_for(0.3);
  std::vector<double> us;
  for (int i = 0; i < reps; ++i) us.push_back(run_for(0.5));
  SCULPT_CHECK(std::isfinite(sink), DataError, "the generated logits are not finite", "bench");
  return us;
}

// One generated token of the character LSTM on the dense kernels, and for lstm80 on `auto`
// (the sparse gate kernels) as the figure.
int run_lstm_case(const InferBenchArgs& a) {
  const bool sparse = a.name == "infer-lstm80-b1";
  const infer::ExportModel m = char_lstm(sparse ? kLstmSparsity : 0.0);
  infer::InferenceModel dense = infer::InferenceModel::from_export(m, {"dense", 1}, a.name);
  const double dense_us = median_of(time_steps(dense, a.reps));
  infer::InferenceModel best = infer::InferenceModel::from_export(m, {"auto", 1}, a.name);
  const std::vector<double> reps = sparse ? time_steps(best, a.reps) : std::vector<double>{};
  const double us = sparse ? median_of(reps) : dense_us;
  nlohmann::json j{
      {"case", a.name},           {"unit", "samples/s"},         {"batch", 1},
      {"threads", num_threads()}, {"params", best.num_params()}, {"nonzeros", best.nonzeros()},
      {"us_per_token", us},       {"samples_per_s", 1e6 / us},   {"tokens_per_s", 1e6 / us}};
  if (sparse) {
    j["reps_us"] = reps;
    j["dense_samples_per_s"] = 1e6 / dense_us;
    j["vs_dense"] = dense_us / us;
  }
  if (a.json)
    fmt::print("{}\n", j.dump());
  else
    fmt::print("{}: {:.1f} us per generated token ({:.0f} tokens/s){}\n", a.name, us, 1e6 / us,
               sparse ? fmt::format("; dense {:.1f} us: {:.2f}x", dense_us, dense_us / us) : "");
  return 0;
}

// The ./bench/run cases on a trained export given by --model.
constexpr std::array<const char*, 4> kTrainedCases = {"infer-trained95-b1", "infer-trained95-b256",
                                                      "infer-lenet90-b1", "infer-lenet90-b256"};

bool is_trained_case(const std::string& name) {
  return std::find(kTrainedCases.begin(), kTrainedCases.end(), name) != kTrainedCases.end();
}

// The microseconds one predict() of `batch` samples of `x` (batch * input_size() values) takes,
// for each of `reps` runs of 0.5 s after 0.3 s of warm-up.
std::vector<double> time_predict(infer::InferenceModel& m, const std::vector<float>& x,
                                 int64_t batch, int reps) {
  using Clock = std::chrono::steady_clock;
  std::vector<float> y(size_t(batch * m.outputs()));
  auto run_for = [&](double seconds) {
    const auto t0 = Clock::now();
    int64_t calls = 0;
    double elapsed = 0.0;
    do {
      for (int i = 0; i < 8; ++i) m.predict(x.data(), batch, y.data());
      calls += 8;
      elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (elapsed < seconds);
    return elapsed / double(calls) * 1e6;
  };
  run_for(0.3);
  std::vector<double> us;
  for (int i = 0; i < reps; ++i) us.push_back(run_for(0.5));
  return us;
}

// The same on `batch` pseudo-random inputs in [0, 1) (seed 11).
std::vector<double> time_predict(infer::InferenceModel& m, int64_t batch, int reps) {
  Rng rng(11);
  std::vector<float> x(size_t(batch * m.input_size()));
  for (float& v : x) v = rng.uniform_float();
  return time_predict(m, x, batch, reps);
}

int64_t case_batch(const std::string& name) {
  return name.size() > 3 && name.compare(name.size() - 3, 3, "-b1") == 0 ? 1 : 256;
}

// export-size-95: the `auto` fp32 export of model A at 95%; export-size-95-fp16: the same with
// --fp16. `bytes` is the case's figure; both also give the other one and the dense fp32 size.
int run_size_case(const InferBenchArgs& a) {
  const infer::ExportModel m = model_a(kSparsity);
  const uint64_t fp32 = infer::encode_export(m, {"auto", false}).bytes.size();
  const uint64_t fp16 = infer::encode_export(m, {"auto", true}).bytes.size();
  const uint64_t dense = infer::encode_export(m, {"dense", false}).bytes.size();
  const bool half = a.name == "export-size-95-fp16";
  const uint64_t bytes = half ? fp16 : fp32;
  if (a.json) {
    nlohmann::json j{{"case", a.name},
                     {"unit", "bytes"},
                     {"bytes", bytes},
                     {"dtype", half ? "f16" : "f32"},
                     {"fp32_bytes", fp32},
                     {"fp16_bytes", fp16},
                     {"dense_bytes", dense},
                     {"vs_dense", double(dense) / double(bytes)},
                     {"fp16_vs_dense", double(dense) / double(fp16)}};
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print(
        "{}: {} bytes ({}; {:.1f}x smaller than the dense fp32 export of {} bytes; fp32 "
        "{} bytes, fp16 {} bytes)\n",
        a.name, bytes, half ? "fp16" : "fp32", double(dense) / double(bytes), dense, fp32, fp16);
  }
  return 0;
}

// The trained cases: the export given by --model, the first `batch` Fashion-MNIST test images
// as input (pixels / 255, the export's `idx` units), timed on the dense kernels and then on
// `auto` (the figure); the `auto` model's test accuracy over all test images checks that the
// peer, which reads the same file, runs the same model.
int run_trained_case(const InferBenchArgs& a) {
  SCULPT_CHECK(!a.model.empty(), ConfigError, a.name + " needs --model", "--model",
               "give the export of the trained model (./bench/run trains and exports it)");
  const int64_t batch = case_batch(a.name);
  const infer::ExportModel m = infer::read_export(a.model);
  infer::InferenceModel dense = infer::InferenceModel::from_export(m, {"dense", batch}, a.model);
  infer::InferenceModel best = infer::InferenceModel::from_export(m, {"auto", batch}, a.model);
  const data::Dataset test =
      data::load_idx(a.data + "/t10k-images-idx3-ubyte.gz", a.data + "/t10k-labels-idx1-ubyte.gz",
                     "fashion-mnist/test");
  SCULPT_CHECK(test.sample_size() == best.input_size(), ShapeError,
               fmt::format("the test images have {} values, the model takes {}", test.sample_size(),
                           best.input_size()),
               a.model, "give a model trained on 28x28 images");
  SCULPT_CHECK(test.size() >= batch, DataError,
               fmt::format("{} test images, the batch is {}", test.size(), batch), a.data);
  const std::vector<float> x(test.x.data(), test.x.data() + batch * best.input_size());
  const double dense_us = median_of(time_predict(dense, x, batch, a.reps));
  const std::vector<double> reps = time_predict(best, x, batch, a.reps);
  const double us = median_of(reps);
  // Accuracy of the model just timed (it runs the test set in chunks of `batch`).
  const std::vector<float> all(test.x.data(), test.x.data() + test.x.size());
  const std::vector<int32_t> cls = best.classify(all);
  int64_t right = 0;
  for (size_t i = 0; i < cls.size(); ++i) right += cls[i] == test.labels[i];
  const double acc = double(right) / double(test.size());
  std::string kernels;
  for (const infer::InferenceLayer& l : best.layers())
    kernels += (kernels.empty() ? "" : ",") + l.name + ":" + l.kernel;
  if (a.json) {
    nlohmann::json j{{"case", a.name},
                     {"unit", "samples/s"},
                     {"batch", batch},
                     {"threads", num_threads()},
                     {"model", a.model},
                     {"params", best.num_params()},
                     {"nonzeros", best.nonzeros()},
                     {"kernels", kernels},
                     {"reps_us", reps},
                     {"us_per_batch", us},
                     {"samples_per_s", double(batch) * 1e6 / us},
                     {"dense_samples_per_s", double(batch) * 1e6 / dense_us},
                     {"vs_dense", dense_us / us},
                     {"test_acc", acc},
                     {"test_samples", test.size()}};
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print(
        "{}: {:.1f} us per batch of {} ({:.0f} samples/s, kernels {}); dense {:.1f} us: "
        "{:.2f}x; test accuracy {:.2f}%\n",
        a.name, us, batch, double(batch) * 1e6 / us, kernels, dense_us, dense_us / us, 100.0 * acc);
  }
  return 0;
}

// One model at one batch size: dense kernels, and with `sparse` also the sparse ones.
int run_model_case(const InferBenchArgs& a) {
  const bool sparse = a.name.rfind("infer-sparse95", 0) == 0;
  const int64_t batch = case_batch(a.name);
  const infer::ExportModel m = model_a(sparse ? kSparsity : 0.0);
  infer::InferenceModel dense = infer::InferenceModel::from_export(m, {"dense", batch}, a.name);
  const double dense_us = median_of(time_predict(dense, batch, a.reps));
  nlohmann::json j{{"case", a.name},
                   {"unit", "samples/s"},
                   {"batch", batch},
                   {"threads", num_threads()},
                   {"params", dense.num_params()}};
  double us = dense_us;
  if (sparse) {
    infer::InferenceModel sp = infer::InferenceModel::from_export(m, {"sparse", batch}, a.name);
    const std::vector<double> reps = time_predict(sp, batch, a.reps);
    us = median_of(reps);
    j["reps_us"] = reps;
    j["nonzeros"] = sp.nonzeros();
    j["dense_samples_per_s"] = double(batch) * 1e6 / dense_us;
    j["vs_dense"] = dense_us / us;
  }
  j["us_per_batch"] = us;
  j["samples_per_s"] = double(batch) * 1e6 / us;
  if (a.json) {
    fmt::print("{}\n", j.dump());
  } else if (sparse) {
    fmt::print("{}: {:.1f} us per batch of {} ({:.0f} samples/s); dense {:.1f} us: {:.2f}x\n",
               a.name, us, batch, double(batch) * 1e6 / us, dense_us, dense_us / us);
  } else {
    fmt::print("{}: {:.1f} us per batch of {} ({:.0f} samples/s)\n", a.name, us, batch,
               double(batch) * 1e6 / us);
  }
  return 0;
}

// `sculpt bench infer --model M`: the export on dense and on sparse kernels at each batch size.
int run_model_file(const InferBenchArgs& a) {
  SCULPT_CHECK(!a.model.empty(), ConfigError, "bench infer needs --model", "--model",
               "give a file written by `sculpt export`");
  const infer::ExportModel m = infer::read_export(a.model);
  fmt::print("model: {} ({} threads)\n", a.model, num_threads());
  fmt::print("{:>6}  {:>14}  {:>14}  {:>8}  {:>16}\n", "batch", "dense us/batch", "sparse us/batch",
             "speedup", "sparse samples/s");
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t b : a.batches) {
    SCULPT_CHECK(b >= 1, ConfigError, "batch sizes must be at least 1", "--batch");
    infer::InferenceModel dense = infer::InferenceModel::from_export(m, {"dense", b}, a.model);
    infer::InferenceModel sp = infer::InferenceModel::from_export(m, {"auto", b}, a.model);
    const double d = median_of(time_predict(dense, b, a.reps));
    const double s = median_of(time_predict(sp, b, a.reps));
    fmt::print("{:>6}  {:>14.1f}  {:>14.1f}  {:>7.2f}x  {:>16.0f}\n", b, d, s, d / s,
               double(b) * 1e6 / s);
    rows.push_back({{"batch", b}, {"dense_us", d}, {"sparse_us", s}, {"speedup", d / s}});
    if (b == a.batches.back()) fmt::print("kernels (auto):\n{}", sp.summary());
  }
  if (a.json) fmt::print("{}\n", nlohmann::json{{"model", a.model}, {"rows", rows}}.dump());
  return 0;
}

}  // namespace

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

bool is_infer_case(const std::string& name) {
  return name == "infer" || name == "export-size-95" || name == "export-size-95-fp16" ||
         name == "infer-mlp-b1" || name == "infer-mlp-b256" || name == "infer-sparse95-b1" ||
         name == "infer-sparse95-b256" || is_trained_case(name) || is_lstm_case(name);
}

int run_infer_bench(const InferBenchArgs& a) {
  SCULPT_CHECK(a.reps >= 1, ConfigError, "--reps must be >= 1", "bench");
  set_threads(a.threads, "--threads");
  if (a.name == "infer") return run_model_file(a);
  if (a.name == "export-size-95" || a.name == "export-size-95-fp16") return run_size_case(a);
  if (is_trained_case(a.name)) return run_trained_case(a);
  if (is_lstm_case(a.name)) return run_lstm_case(a);
  return run_model_case(a);
}

}  // namespace sculpt::cli

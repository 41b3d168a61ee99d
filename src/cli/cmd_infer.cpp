// `sculpt infer --model M --input FILE [--labels FILE] [--batch B]`: runs an export on IDX
// images or CSV rows. With labels (an IDX labels file, found next to the images or given, or a
// CSV column beyond the model's features) it prints the accuracy (or the mean squared error);
// without, the predictions, one line per sample (also written to --out as CSV).
// `sculpt infer M --prompt TEXT [--tokens N] [--temperature T] [--seed S]` generates text with a
// text model instead (infer_generate.cpp).
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/infer_generate.h"
#include "cli/output_guard.h"
#include "cli/verb.h"
#include "core/error.h"
#include "core/parallel.h"
#include "data/csv.h"
#include "data/idx.h"
#include "infer/inference_model.h"
#include "run/run_dir.h"

namespace sculpt::cli {

using namespace sculpt::run;  // run directories and checkpoints (src/run)

namespace {

struct InferArgs {
  std::string model;
  std::string input;
  std::string labels;
  std::string target = "-1";
  std::string out;
  std::string kernels = "auto";
  int64_t batch = 256;
  int threads = 0;
  bool force = false;
  GenerateArgs generate;
};

struct Inputs {
  std::vector<float> x;
  std::vector<double> labels;  // empty: none
  int64_t n = 0;
};

bool looks_like_idx(const std::string& path) {
  unsigned char b[4] = {0, 0, 0, 0};
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    const size_t got = std::fread(b, 1, 4, f);
    std::fclose(f);
    if (got < 2) return false;
  }
  return (b[0] == 0x1f && b[1] == 0x8b) || (b[0] == 0 && b[1] == 0 && b[2] == 0x08);
}

// ".../t10k-images-idx3-ubyte.gz" -> ".../t10k-labels-idx1-ubyte.gz" when that file exists.
std::string sibling_labels(const std::string& images) {
  namespace fs = std::filesystem;
  const fs::path p(images);
  std::string name = p.filename().string();
  const auto at = name.find("images-idx3");
  if (at == std::string::npos) return {};
  name.replace(at, 11, "labels-idx1");
  const fs::path labels = p.parent_path() / name;
  return fs::exists(labels) ? labels.string() : std::string();
}

// A label the model can predict: a class in [0, outputs) (0 or 1 for a binary model); any
// value for regression. DataError naming where it is otherwise: an accuracy against labels
// the model cannot produce means the wrong labels or the wrong model.
void check_label(double v, const infer::ExportHeader& h, const std::string& where) {
  if (h.task == "regression") return;
  const int64_t classes = h.task == "binary" ? 2 : h.outputs;
  SCULPT_CHECK(v >= 0 && v < double(classes) && v == std::floor(v), DataError,
               fmt::format("label {} is not one of the model's {} classes (0 to {})", v, classes,
                           classes - 1),
               where, "give the labels that belong to the inputs, or the model trained on them");
}

Inputs read_idx_inputs(const InferArgs& a, const infer::ExportHeader& h) {
  const data::IdxArray img = data::read_idx(a.input, data::kIdxImagesMagic);
  const int64_t n = img.dims[0], per = img.dims[1] * img.dims[2];
  const int64_t want = numel(h.input);
  SCULPT_CHECK(per == want, ShapeError,
               fmt::format("the images are {}x{} ({} values), the model takes [{}] ({} values)",
                           img.dims[1], img.dims[2], per, fmt::join(h.input, ", "), want),
               a.input, "give images of the size the model was trained on");
  Inputs in;
  in.n = n;
  in.x.resize(img.bytes.size());
  for (size_t i = 0; i < img.bytes.size(); ++i) in.x[i] = float(img.bytes[i]) / 255.0f;
  const std::string labels = a.labels.empty() ? sibling_labels(a.input) : a.labels;
  if (!labels.empty()) {
    const data::IdxArray lab = data::read_idx(labels, data::kIdxLabelsMagic);
    SCULPT_CHECK(lab.dims[0] == n, DataError,
                 fmt::format("{} labels for {} images in {}", lab.dims[0], n, a.input), labels,
                 "give the labels file that belongs to the images");
    in.labels.assign(lab.bytes.begin(), lab.bytes.end());
    for (size_t i = 0; i < in.labels.size(); ++i)
      check_label(in.labels[i], h, fmt::format("{}: item {}", labels, i));
  }
  return in;
}

Inputs read_csv_inputs(const InferArgs& a, const infer::ExportHeader& h) {
  SCULPT_CHECK(a.labels.empty(), ConfigError, "--labels is for IDX images", "--labels",
               "a CSV file carries its labels as a column (--target)");
  const data::CsvTable tab = data::read_csv_table(a.input);
  const int64_t f = numel(h.input);
  SCULPT_CHECK(tab.cols == f || tab.cols == f + 1, ShapeError,
               fmt::format("the rows have {} columns, the model takes {} features (plus an "
                           "optional label column)",
                           tab.cols, f),
               a.input, "give the feature columns the model was trained on");
  Inputs in;
  in.n = tab.rows;
  int64_t target = -1;
  if (tab.cols == f + 1) {
    const auto named = std::find(tab.names.begin(), tab.names.end(), a.target);
    if (named != tab.names.end()) {
      target = named - tab.names.begin();
    } else {
      try {
        target = std::stoll(a.target);
      } catch (const std::exception&) {
        throw ConfigError("no column '" + a.target + "'", "--target",
                          "a column name from the header or an index (-1: the last)");
      }
      if (target < 0) target += tab.cols;
      SCULPT_CHECK(target >= 0 && target < tab.cols, ConfigError,
                   fmt::format("column {} is out of range (the rows have {})", a.target, tab.cols),
                   "--target");
    }
  }
  in.x.reserve(size_t(in.n * f));
  for (int64_t r = 0; r < in.n; ++r)
    for (int64_t c = 0; c < tab.cols; ++c) {
      const double v = tab.cells[size_t(r * tab.cols + c)];
      if (c == target) {
        check_label(v, h, fmt::format("{}:{}", a.input, tab.lines[size_t(r)]));
        in.labels.push_back(v);
      } else
        in.x.push_back(float(v));
    }
  return in;
}

void report(const InferArgs& a, const infer::InferenceModel& m, const Inputs& in,
            const std::vector<float>& logits) {
  const int64_t n = in.n, k = m.outputs();
  const bool regression = m.header().task == "regression";
  const std::vector<int32_t> cls =
      regression ? std::vector<int32_t>{} : infer::classes_of(logits.data(), n, k);
  if (!a.out.empty()) {
    std::string csv = regression ? "sample,value\n" : "sample,class\n";
    for (int64_t i = 0; i < n; ++i)
      csv += regression
                 ? fmt::format("{},{}\n", i,
                               fmt::join(logits.begin() + i * k, logits.begin() + (i + 1) * k, ","))
                 : fmt::format("{},{}\n", i, cls[size_t(i)]);
    write_text_file(a.out, csv);
    fmt::print("predictions: {}\n", a.out);
  }
  if (in.labels.empty()) {
    if (a.out.empty())
      for (int64_t i = 0; i < n; ++i)
        fmt::print("{}\n", regression
                               ? fmt::format("{}", fmt::join(logits.begin() + i * k,
                                                             logits.begin() + (i + 1) * k, ","))
                               : std::to_string(cls[size_t(i)]));
    return;
  }
  if (regression) {
    double se = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double d = double(logits[size_t(i * k)]) - in.labels[size_t(i)];
      se += d * d;
    }
    fmt::print("mse:      {:.6g} over {} samples\n", se / double(n), n);
    return;
  }
  int64_t right = 0;
  for (int64_t i = 0; i < n; ++i) right += double(cls[size_t(i)]) == in.labels[size_t(i)];
  fmt::print("accuracy: {:.2f}% ({} of {})\n", 100.0 * double(right) / double(n), right, n);
}

void run_infer(const InferArgs& a) {
  if (a.generate.prompt) {
    GenerateArgs g = a.generate;
    g.kernels = a.kernels;
    g.threads = a.threads;
    return run_generate(a.model, g);
  }
  // A usage error, as CLI11 reports a missing option (--prompt is the other way to run).
  if (a.input.empty()) throw CLI::RequiredError("--input");
  SCULPT_CHECK(a.batch >= 1, ConfigError, "--batch must be at least 1", "--batch");
  set_threads(a.threads, "--threads");
  if (!a.out.empty())
    check_output_file({.path = a.out,
                       .option = "--out",
                       .what = "predictions file",
                       .begins = {"sample,"},
                       .inputs = {a.model, a.input, a.labels},
                       .force = a.force});
  const infer::ExportModel exported = infer::read_export(a.model);
  const Inputs in = looks_like_idx(a.input) ? read_idx_inputs(a, exported.header)
                                            : read_csv_inputs(a, exported.header);
  // Buffers for no more samples than there are: --batch 2147483647 on ten rows runs as 10.
  const int64_t batch = std::min(a.batch, std::max<int64_t>(in.n, 1));
  infer::InferenceModel m =
      infer::InferenceModel::from_export(exported, {a.kernels, batch}, a.model);
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const std::vector<float> logits = m.predict(in.x);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  fmt::print(stderr, "model:    {} ({} of {} parameters non-zero)\n{}", a.model, m.nonzeros(),
             m.num_params(), m.summary());
  fmt::print(stderr, "input:    {} ({} samples, batch {}): {:.3f} s, {:.0f} samples/s\n", a.input,
             in.n, batch, s, double(in.n) / std::max(s, 1e-9));
  report(a, m, in, logits);
}

}  // namespace

void add_infer(CLI::App& app) {
  const auto [sub, args] = add_verb<InferArgs>(
      app, "infer",
      "Run an exported model on IDX images or CSV rows (--input), or generate text from a "
      "prompt with a text model (--prompt)",
      run_infer);
  sub->add_option("model,--model,-m", args->model, "Export file (sculpt export)")->required();
  CLI::Option* input =
      sub->add_option("--input,-i", args->input, "IDX images (.gz or not) or a CSV file");
  sub->add_option("--labels", args->labels,
                  "IDX labels (default: the *-labels-idx1-* file next to the images, if any)");
  sub->add_option("--target", args->target,
                  "CSV: the label column when the rows have one more column than the model's "
                  "features (name or index; -1: the last)")
      ->capture_default_str();
  sub->add_option("--batch,-b", args->batch, "Samples per forward pass")->capture_default_str();
  sub->add_option("--kernels", args->kernels,
                  "auto | dense | sparse (linear and convolution layers; with --prompt the "
                  "recurrent gate matrices)")
      ->check(CLI::IsMember({"auto", "dense", "sparse"}))
      ->capture_default_str();
  sub->add_option("--threads,-t", args->threads, "Threads (default: all cores)");
  sub->add_option("--out,-o", args->out, "Write the predictions to this CSV file");
  add_force_flag(sub, args->force);
  GenerateArgs& g = args->generate;
  sub->add_option("--prompt,-p", g.prompt,
                  "Text model: the text to continue; prints it and the generated text")
      ->excludes(input);
  sub->add_option("--tokens,-n", g.tokens,
                  "With --prompt: tokens to generate (characters, or bytes for a byte model)")
      ->capture_default_str();
  sub->add_option("--temperature", g.temperature,
                  "With --prompt: sample from softmax(logits / T); 0: the likeliest token")
      ->capture_default_str();
  sub->add_option("--seed", g.seed, "With --prompt: the sampling seed (same seed, same text)")
      ->capture_default_str();
}

}  // namespace sculpt::cli

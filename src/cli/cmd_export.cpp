// `sculpt export --checkpoint RUN_DIR|FILE [--format auto|dense|sparse] [--fp16] [--out F]`:
// writes the compact inference file (infer/export_format.h) of a trained or pruned model, then
// reads it back and checks it against the checkpoint's own model on the test split: the same
// predictions and logits within 1e-4 (fp32), or the accuracy change (fp16).
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/output_guard.h"
#include "cli/prune_source.h"
#include "cli/verb.h"
#include "core/error.h"
#include "infer/inference_model.h"
#include "io/atomic_file.h"
#include "train/export.h"

namespace sculpt::cli {

namespace {

struct ExportArgs {
  std::string checkpoint;
  std::string out;
  std::string format = "auto";
  bool fp16 = false;
  bool force = false;
};

// Logits of x (n samples) under the trainer's own model.
std::vector<float> trainer_logits(train::Trainer& t, const data::Dataset& ds) {
  nn::Model& m = t.model();
  const int64_t n = ds.size(), k = m.outputs(), size = ds.sample_size();
  std::vector<float> out(size_t(n * k));
  for (int64_t i = 0; i < n; i += m.max_batch()) {
    const int64_t b = std::min(m.max_batch(), n - i);
    const float* y = m.forward(t.params(), ds.x.data() + i * size, b, nn::Pass{});
    std::copy(y, y + b * k, out.begin() + i * k);
  }
  return out;
}

// Data as the user gave it: the trainer's splits are standardised, an export takes raw units.
std::vector<float> raw_inputs(const data::Dataset& ds, const data::Splits& sp) {
  std::vector<float> x(ds.x.data(), ds.x.data() + ds.x.size());
  for (float& v : x) v = v * sp.norm_std + sp.norm_mean;
  return x;
}

double accuracy(const std::vector<int32_t>& pred, const data::Dataset& ds) {
  int64_t right = 0;
  for (size_t i = 0; i < pred.size(); ++i) right += pred[i] == ds.labels[i];
  return pred.empty() ? 0.0 : double(right) / double(pred.size());
}

std::string human_bytes(uint64_t b) {
  if (b < 10'000) return fmt::format("{} B", b);
  if (b < 10'000'000) return fmt::format("{:.1f} KB", double(b) / 1e3);
  return fmt::format("{:.2f} MB", double(b) / 1e6);
}

std::string default_out(const PruneSource& src) {
  namespace fs = std::filesystem;
  if (!src.run_dir.empty()) return (fs::path(src.run_dir) / "model.sculpt").string();
  return fs::path(src.path).replace_extension(".sculpt").string();
}

// Compares an export (decoded from its bytes) with the checkpoint's model on the test split.
void check_export(train::Trainer& t, const infer::ExportModel& written, const ExportArgs& a,
                  const std::string& out) {
  const data::Splits& sp = t.splits();
  const data::Dataset& test = sp.test;
  if (test.size() == 0) {
    fmt::print("check:    skipped (the run has no test split)\n");
    return;
  }
  infer::InferenceModel model = infer::InferenceModel::from_export(written, {}, out);
  const std::vector<float> x = raw_inputs(test, sp);
  const std::vector<float> got = model.predict(x);
  const std::vector<float> want = trainer_logits(t, test);
  double max_diff = 0.0;
  for (size_t i = 0; i < got.size(); ++i)
    max_diff = std::max(max_diff, double(std::abs(got[i] - want[i])));
  const int64_t n = test.size(), k = model.outputs();
  if (test.task == data::Task::kRegression) {
    fmt::print("check:    {} test samples: max |output difference| {:.2g}\n", n, max_diff);
    SCULPT_CHECK(
        a.fp16 || max_diff <= 1e-4, NumericError,
        fmt::format("the export's outputs differ from the checkpoint's by {:.3g}", max_diff), out,
        "please report this with the checkpoint");
    return;
  }
  // A sequence model predicts at every position of a window: rows of k logits.
  const int64_t rows = n * test.positions, per_row = k / test.positions;
  const std::vector<int32_t> p_got = infer::classes_of(got.data(), rows, per_row);
  const std::vector<int32_t> p_want = infer::classes_of(want.data(), rows, per_row);
  int64_t same = 0;
  for (int64_t i = 0; i < rows; ++i) same += p_got[size_t(i)] == p_want[size_t(i)];
  fmt::print(
      "check:    {} test {}: the same prediction on {}, max |logit difference| "
      "{:.2g}\n",
      rows, test.positions > 1 ? "predictions (every position)" : "samples", same, max_diff);
  const double acc = accuracy(p_got, test), acc_ck = accuracy(p_want, test);
  fmt::print("accuracy: {:.2f}% (checkpoint {:.2f}%, change {:+.2f} points)\n", 100 * acc,
             100 * acc_ck, 100 * (acc - acc_ck));
  // fp32 must reproduce the checkpoint; fp16 rounding may flip a few close calls.
  SCULPT_CHECK(a.fp16 || (max_diff <= 1e-4 && same == rows), NumericError,
               fmt::format("the export does not reproduce the checkpoint (max logit difference "
                           "{:.3g}, {} of {} predictions equal)",
                           max_diff, same, rows),
               out, "please report this with the checkpoint");
}

// The export is encoded, decoded and checked against the checkpoint in memory, then written to
// a temporary file that is read back and decoded again before it replaces the previous export:
// a failed check, a full disk or a bad read-back leaves the old file as it was.
void run_export(const ExportArgs& a) {
  const PruneSource src = load_prune_source(a.checkpoint);
  const std::string out = a.out.empty() ? default_out(src) : a.out;
  check_output_file({.path = out,
                     .option = "--out",
                     .what = "export",
                     .begins = {"SCULPTMD"},
                     .inputs = {src.path},
                     .force = a.force});
  std::unique_ptr<train::Trainer> t =
      trainer_from(source_recipe(src, {}), src.checkpoint, src.path);
  train::ExportSource ex = train::export_from_trainer(*t, src.path);
  for (const std::string& note : ex.notes) fmt::print("surgery:  {}\n", note);
  for (const prune::UnitChange& c : ex.surgery)
    fmt::print("surgery:  {} {} -> {} units (dead units removed)\n", c.layer, c.before, c.after);
  if (!ex.folded.empty())
    fmt::print("folded:   {} into the layer before (evaluation statistics)\n",
               fmt::join(ex.folded, ", "));

  const infer::EncodedExport encoded = infer::encode_export(ex.model, {a.format, a.fp16});
  check_export(*t, infer::decode_export(encoded.bytes, out), a, out);
  io::write_file_atomic(out, {encoded.bytes}, "export", /*keep_previous=*/false,
                        [&](const std::string& tmp) {
                          const std::string back = infer::read_export_bytes(tmp);
                          SCULPT_CHECK(back == encoded.bytes, IoError,
                                       "the export read back differs from what was written", tmp,
                                       "check the disk; the previous export is kept");
                          infer::decode_export(back, tmp);
                        });
  const uint64_t size = encoded.bytes.size();
  // What shipping the model unpruned would cost: the trained architecture, dense, fp32.
  const uint64_t dense =
      infer::encode_export(train::export_from_trainer(*t, src.path, false).model, {"dense", false})
          .bytes.size();
  fmt::print("export:   {} ({}; the dense fp32 export is {}: {:.1f}x smaller)\n", out,
             human_bytes(size), human_bytes(dense), double(dense) / double(size));
  for (const infer::StoredInfo& s : encoded.tensors)
    fmt::print("  {:<16} [{}]  {:<7} {}  {:>8} nonzeros  {}\n", s.name, fmt::join(s.shape, ", "),
               infer::encoding_name(s.encoding), s.fp16 ? "f16" : "f32", s.nnz,
               human_bytes(s.bytes));
}

}  // namespace

void add_export(CLI::App& app) {
  const auto [sub, args] = add_verb<ExportArgs>(
      app, "export", "Write a compact inference file of a trained or pruned model (sparse, fp16)",
      run_export);
  add_checkpoint_option(sub, args->checkpoint)->required();
  sub->add_option("--out,-o", args->out,
                  "Output file (default: <run dir>/model.sculpt, or the checkpoint's name with "
                  ".sculpt)");
  sub->add_option("--format", args->format,
                  "auto: the smallest encoding per tensor; dense; sparse: CSR for every weight")
      ->check(CLI::IsMember({"auto", "dense", "sparse"}))
      ->capture_default_str();
  sub->add_flag("--fp16", args->fp16,
                "Store values in half precision (reports the accuracy change)");
  add_force_flag(sub, args->force);
}

}  // namespace sculpt::cli

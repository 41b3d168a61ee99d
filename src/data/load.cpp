// load_splits: source dispatch, then the common limit -> val -> normalise pipeline.
#include "data/load.h"

#include <filesystem>
#include <numeric>

#include "core/error.h"
#include "data/csv.h"
#include "data/idx.h"
#include "data/split.h"
#include "data/synthetic.h"
#include "data/text.h"

namespace sculpt::data {

namespace {

// <dir>/<stem>.gz when it exists, else <dir>/<stem> when that exists, else the .gz name (so the
// error names the file a Debian install provides).
std::string idx_file(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  const fs::path gz = fs::path(dir) / (stem + ".gz");
  const fs::path plain = fs::path(dir) / stem;
  std::error_code ec;
  if (!fs::exists(gz, ec) && fs::exists(plain, ec)) return plain.string();
  return gz.string();
}

void check_fraction(double f, const char* field) {
  SCULPT_CHECK(f >= 0.0 && f < 1.0, ConfigError,
               fmt::format("{} must be in [0, 1), got {}", field, f), field);
}

void rename(Dataset& ds, const std::string& base, const char* part) { ds.name = base + "/" + part; }

Splits load_idx_splits(const DataConfig& cfg) {
  const std::string base = cfg.source == DataSource::kFashionMnist ? "fashion-mnist" : cfg.path;
  Splits s;
  // The limits are applied while reading: a quick run does not decompress the whole file.
  s.train = load_idx(idx_file(cfg.path, "train-images-idx3-ubyte"),
                     idx_file(cfg.path, "train-labels-idx1-ubyte"), base + "/train",
                     /*num_classes=*/10, cfg.limit_train);
  s.test = load_idx(idx_file(cfg.path, "t10k-images-idx3-ubyte"),
                    idx_file(cfg.path, "t10k-labels-idx1-ubyte"), base + "/test",
                    /*num_classes=*/10, cfg.limit_test);
  return s;
}

Splits load_csv_splits(const DataConfig& cfg, Rng& rng) {
  CsvOptions opt{.target = cfg.target, .header = cfg.header, .task = cfg.task};
  Dataset all = load_csv(cfg.path, opt);
  Splits s;
  if (cfg.test_path.empty()) {
    std::tie(s.train, s.test) = split_off(all, cfg.test_fraction, rng);
  } else {
    s.train = std::move(all);
    opt.task = task_name(s.train.task);  // the test file must not re-detect a different task
    s.test = load_csv(cfg.test_path, opt);
    SCULPT_CHECK(s.test.sample_size() == s.train.sample_size(), DataError,
                 fmt::format("{} has {} features but {} has {}", cfg.test_path,
                             s.test.sample_size(), cfg.path, s.train.sample_size()),
                 "data.test_path");
    const int64_t classes = std::max(s.train.num_classes, s.test.num_classes);
    s.train.num_classes = s.test.num_classes = classes;
  }
  rename(s.train, cfg.path, "train");
  rename(s.test, cfg.test_path.empty() ? cfg.path : cfg.test_path, "test");
  return s;
}

Splits load_synthetic_splits(const DataConfig& cfg, Rng& rng) {
  Splits s;
  Dataset all;
  if (cfg.source == DataSource::kSyntheticLinear) {
    all = make_linear_regression(cfg.samples, cfg.features, cfg.noise, rng, &s.true_weights,
                                 &s.true_bias);
  } else {
    all = make_blobs(cfg.samples, cfg.features, cfg.separation, rng);
  }
  std::tie(s.train, s.test) = split_off(all, cfg.test_fraction, rng);
  rename(s.train, std::string(text_of(cfg.source)), "train");
  rename(s.test, std::string(text_of(cfg.source)), "test");
  return s;
}

Splits load_text_splits(const DataConfig& cfg) {
  const TextOptions o{
      .vocabulary = cfg.vocabulary == "byte" ? TextVocabulary::kByte : TextVocabulary::kChar,
      .steps = cfg.steps,
      .stride = cfg.stride,
      .val_fraction = cfg.val_fraction,
      .test_fraction = cfg.test_fraction};
  TextSplits t = load_text(cfg.path, o);
  Splits s;
  s.train = std::move(t.train);
  s.val = std::move(t.val);
  s.test = std::move(t.test);
  s.vocabulary = std::move(t.vocabulary);
  return s;
}

// Weights that produce the same y from normalised inputs: x = std * x' + mean, so
// x.w + b = x'.(std * w) + (b + mean * sum(w)).
void express_in_normalised_space(Splits& s) {
  if (s.true_weights.empty()) return;
  double sum_w = 0.0;
  for (float& w : s.true_weights) sum_w += w, w *= s.norm_std;
  s.true_bias = static_cast<float>(s.true_bias + s.norm_mean * sum_w);
}

}  // namespace

Splits load_splits(const DataConfig& cfg, Rng& rng) {
  check_fraction(cfg.val_fraction, "data.val_fraction");
  check_fraction(cfg.test_fraction, "data.test_fraction");
  SCULPT_CHECK(cfg.limit_train >= 0 && cfg.limit_test >= 0, ConfigError,
               "data.limit_train and data.limit_test must be >= 0 (0 means all)",
               "data.limit_train");

  Splits s;
  const bool text = cfg.source == DataSource::kText;
  if (text)
    s = load_text_splits(cfg);
  else if (cfg.source == DataSource::kCsv)
    s = load_csv_splits(cfg, rng);
  else if (synthetic(cfg.source))
    s = load_synthetic_splits(cfg, rng);
  else
    s = load_idx_splits(cfg);
  const std::string train_name = s.train.name, test_name = s.test.name;
  if (cfg.limit_train > 0 && s.train.size() > cfg.limit_train) {
    s.train = take_first(s.train, cfg.limit_train);
  }
  if (cfg.limit_test > 0 && s.test.size() > cfg.limit_test) {
    s.test = take_first(s.test, cfg.limit_test);
  }
  if (!text) {  // text: split by position already
    std::tie(s.train, s.val) = split_off(s.train, cfg.val_fraction, rng);
    s.train.name = train_name;
    s.val.name = train_name.substr(0, train_name.rfind('/')) + "/val";
  }
  SCULPT_CHECK(s.train.size() > 0, ConfigError,
               fmt::format("the training split of {} is empty", train_name), "data",
               "lower data.val_fraction / data.test_fraction or raise data.limit_train");
  // Every accuracy a run reports is over the test split: an empty one would read 0.00%.
  SCULPT_CHECK(s.test.size() > 0, DataError,
               fmt::format("the test split of {} is empty ({} in all)", test_name,
                           s.train.size() + s.val.size() == 1
                               ? std::string("1 sample")
                               : fmt::format("{} samples", s.train.size() + s.val.size())),
               "data",
               cfg.test_path.empty() && (cfg.source == DataSource::kCsv || synthetic(cfg.source))
                   ? fmt::format("data.test_fraction = {} of them rounds to none: give more rows, "
                                 "a larger data.test_fraction or a data.test_path file",
                                 cfg.test_fraction)
                   : "give the test data more samples");

  if (cfg.normalize == Normalize::kStandard && !text) {  // token ids stay ids
    const Normalizer norm = fit_standard(s.train);
    for (Dataset* d : {&s.train, &s.val, &s.test}) apply(norm, *d);
    s.norm_mean = norm.mean;
    s.norm_std = norm.std;
  }
  express_in_normalised_space(s);
  return s;
}

}  // namespace sculpt::data

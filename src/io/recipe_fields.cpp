// The field lists of the recipe tables: name, member, allowed values and one line of meaning.
// Defaults are the structs' member initialisers in io/recipe.h. Adding a recipe key = one member
// there + one row here; parsing, --set, to_toml and `sculpt list` follow.
#include "core/limits.h"
#include "io/recipe.h"

namespace sculpt {

const std::vector<Field<DataConfig>>& DataConfig::fields() {
  using C = DataConfig;
  static const std::vector<Field<C>> f = {
      {"source", &C::source, "where samples come from"},
      {"path",
       &C::path,
       {},
       "idx: directory of the four IDX files (.gz or not); csv: the file; text: a UTF-8 file or "
       "a directory of them"},
      {"test_path", &C::test_path, {}, "csv: separate test file (empty: carve test_fraction)"},
      {"target",
       &C::target,
       {},
       "csv: target column name or index (negative counts from the end)",
       /*int_as_string=*/true},
      {"header", &C::header, {"auto", "yes", "no"}, "csv: does the first row hold column names"},
      {"task",
       &C::task,
       {"auto", "classification", "binary", "regression"},
       "csv: what the target is (auto: guess from its values)"},
      {"val_fraction", &C::val_fraction, half_open(0, 1),
       "fraction of the training set held out for validation"},
      {"test_fraction", &C::test_fraction, half_open(0, 1),
       "csv/synthetic without a test file: fraction carved out for test; text: the last tokens"},
      {"normalize", &C::normalize,
       "standard: subtract mean, divide by std (measured on the train split)"},
      {"limit_train", &C::limit_train, at_least(0),
       "use only the first N training samples (0: all)"},
      {"limit_test", &C::limit_test, at_least(0), "use only the first N test samples (0: all)"},
      {"samples", &C::samples, at_least(2), "synthetic: number of samples generated"},
      {"features", &C::features, at_least(1), "synthetic: number of input features"},
      {"noise", &C::noise, at_least(0), "synthetic-linear: std of the noise added to targets"},
      {"separation", &C::separation, at_least(0),
       "synthetic-blobs: distance between class centres, in units of sigma"},
      {"vocabulary",
       &C::vocabulary,
       {"char", "byte"},
       "text: tokens are the characters (code points) of the training text, or all 256 bytes"},
      {"steps", &C::steps, at_least(1), "text: tokens per window (the sequence length)"},
      {"stride", &C::stride, at_least(0), "text: tokens between window starts (0: steps)"},
  };
  return f;
}

const std::vector<Field<ModelConfig>>& ModelConfig::fields() {
  using C = ModelConfig;
  static const std::vector<Field<C>> f = {
      {"name",
       &C::name,
       {},
       "built-in model (mlp, lenet5, seed-cnn, linear, binary-mlp, resnet-small) or custom "
       "([[model.layers]])"},
  };
  return f;
}

const std::vector<Field<ParamGroupConfig>>& ParamGroupConfig::fields() {
  using C = ParamGroupConfig;
  static const std::vector<Field<C>> f = {
      {"lr_scale", &C::lr_scale, at_least(0), "multiplies the learning rate of these tensors"},
      {"weight_decay", &C::weight_decay, at_least(-1),
       "weight decay of these tensors, biases included (-1: the optimizer's, none on biases)"},
      {"frozen", &C::frozen, "never update these tensors"},
  };
  return f;
}

const std::vector<Field<TrainConfig>>& TrainConfig::fields() {
  using C = TrainConfig;
  static const std::vector<Field<C>> f = {
      {"epochs", &C::epochs, at_least(1), "passes over the training set"},
      {"batch_size", &C::batch_size, at_least(1), "samples per optimizer step"},
      {"eval_batch_size", &C::eval_batch_size, at_least(1), "samples per evaluation batch"},
      {"seed", &C::seed, {}, "seeds initialisation, shuffling, splits and dropout"},
      {"threads", &C::threads, closed(0, double(kMaxThreads)), "worker threads (0: every core)"},
      {"loss",
       &C::loss,
       {"auto", "cross-entropy", "bce", "mse"},
       "auto: cross-entropy for classes, bce for binary, mse for regression"},
      {"nonfinite", &C::nonfinite,
       "on a NaN/inf loss or gradient: stop naming the tensor, or skip the step"},
      {"max_skips", &C::max_skips, at_least(1),
       "nonfinite = \"skip\": stop after this many skipped steps in a row"},
      {"precision", &C::precision,
       "bf16: the products of linear layers in bfloat16 (AMX or AVX-512 BF16 where the CPU has "
       "them), fp32 accumulation; weights, optimizer state, loss, clipping and checkpoints "
       "stay fp32, and layers without a bf16 path run in fp32 (named at the start)"},
      {"accumulate", &C::accumulate, at_least(1),
       "micro-batches of batch_size whose gradients add up to one optimizer step"},
      {"tbptt", &C::tbptt,
       "text with a recurrent model: carry the state across consecutive windows (truncated "
       "backpropagation through time); batch_size streams in order, never shuffled"},
  };
  return f;
}

const std::vector<Field<OutputConfig>>& OutputConfig::fields() {
  using C = OutputConfig;
  static const std::vector<Field<C>> f = {
      {"dir", &C::dir, {}, "parent directory of run directories"},
      {"name", &C::name, {}, "run name (empty: the recipe file's stem)"},
      {"progress",
       &C::progress,
       {"auto", "bar", "plain", "none"},
       "auto: a redrawn bar on a terminal, plain lines otherwise"},
      {"checkpoint", &C::checkpoint,
       "save checkpoints at the start, after each epoch and every checkpoint_every steps"},
      {"checkpoint_every", &C::checkpoint_every, at_least(0),
       "steps between checkpoints inside an epoch (0: at epoch ends only)"},
      {"keep", &C::keep, at_least(1), "checkpoints/step-*.safetensors files kept (the newest)"},
  };
  return f;
}

}  // namespace sculpt

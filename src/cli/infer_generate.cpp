// `sculpt infer MODEL --prompt TEXT [--tokens N] [--temperature T] [--seed S]`: the prompt fed
// to a text model's export one token at a time, then N tokens sampled and fed back
// (infer/generate.h), the text printed as it comes.
#include "cli/infer_generate.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "core/limits.h"
#include "core/parallel.h"
#include "infer/generate.h"
#include "infer/inference_model.h"

namespace sculpt::cli {

namespace {

infer::GenerateOptions checked_generate_options(const GenerateArgs& a) {
  SCULPT_CHECK(!a.prompt->empty(), ConfigError, "--prompt is empty", "--prompt",
               "give the text to continue, e.g. --prompt 'The '");
  SCULPT_CHECK(a.tokens >= 1 && a.tokens <= kMaxGenerateTokens, ConfigError,
               fmt::format("--tokens must be in [1, {}], got {}", kMaxGenerateText, a.tokens),
               "--tokens", "how many tokens to generate after the prompt");
  SCULPT_CHECK(std::isfinite(a.temperature) && a.temperature >= 0.0, ConfigError,
               fmt::format("--temperature must be a finite number >= 0, got {}", a.temperature),
               "--temperature",
               "1 samples the model's own distribution, lower is more conservative, 0 greedy");
  SCULPT_CHECK(a.seed >= 0, ConfigError, fmt::format("--seed must be >= 0, got {}", a.seed),
               "--seed", "any non-negative integer; the same seed gives the same text");
  return {.tokens = a.tokens, .temperature = a.temperature, .seed = uint64_t(a.seed)};
}

}  // namespace

void run_generate(const std::string& model, const GenerateArgs& a) {
  const infer::GenerateOptions options = checked_generate_options(a);
  set_threads(a.threads, "--threads");
  const infer::ExportModel exported = infer::read_export(model);
  SCULPT_CHECK(exported.header.vocabulary.has_value(), ConfigError,
               fmt::format("{} has no vocabulary: --prompt needs a text model", model), "--prompt",
               "export a model trained with data.source = \"text\" (an export made before "
               "Sculpt stored vocabularies: export its checkpoint again); run other models on "
               "data with --input");
  const data::Vocabulary& vocab = *exported.header.vocabulary;
  const std::vector<int32_t> prompt = vocab.encode(*a.prompt, "--prompt");
  infer::InferenceModel m = infer::InferenceModel::from_export(exported, {a.kernels, 1}, model);

  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  fmt::print("{}", *a.prompt);
  std::fflush(stdout);
  infer::generate(m, prompt, options, [&](int32_t t) {
    const std::string text = vocab.token_text(t);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  });
  fmt::print("\n");
  std::fflush(stdout);  // before the timing line on stderr
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  fmt::print(stderr, "generated {} tokens after a prompt of {} in {:.3f} s ({:.0f} tokens/s)\n",
             options.tokens, prompt.size(), s, double(options.tokens) / std::max(s, 1e-9));
}

}  // namespace sculpt::cli

// Sampling and the generation loop (generate.h).
#include "infer/generate.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "core/limits.h"

namespace sculpt::infer {

void check_generate_options(const GenerateOptions& o) {
  SCULPT_CHECK(o.tokens >= 1 && o.tokens <= kMaxGenerateTokens, ConfigError,
               fmt::format("tokens must be in [1, {}], got {}", kMaxGenerateText, o.tokens),
               "tokens", "how many tokens to generate after the prompt");
  SCULPT_CHECK(std::isfinite(o.temperature) && o.temperature >= 0.0, ConfigError,
               fmt::format("temperature must be a finite number >= 0, got {}", o.temperature),
               "temperature", "1 samples the model's own distribution, 0 takes the likeliest");
}

int32_t sample_token(std::span<const float> logits, double temperature, Rng& rng) {
  size_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[best]) best = i;
  if (temperature == 0.0) return int32_t(best);
  // p_i = exp((l_i - max) / T) / sum: the largest term is 1, so the sum neither overflows nor
  // vanishes. Two passes instead of a buffer of probabilities.
  const double max = logits[best], inv_t = 1.0 / temperature;
  double sum = 0.0;
  for (const float l : logits) sum += std::exp((double(l) - max) * inv_t);
  const double u = rng.uniform() * sum;
  double acc = 0.0;
  size_t last = best;  // rounding may leave u just above the last partial sum
  for (size_t i = 0; i < logits.size(); ++i) {
    const double p = std::exp((double(logits[i]) - max) * inv_t);
    acc += p;
    if (u < acc) return int32_t(i);
    if (p > 0.0) last = i;
  }
  return int32_t(last);
}

std::vector<int32_t> generate(InferenceModel& m, std::span<const int32_t> prompt,
                              const GenerateOptions& o,
                              const std::function<void(int32_t)>& on_token) {
  check_generate_options(o);
  Rng rng(o.seed);
  std::vector<int32_t> out;
  out.reserve(size_t(o.tokens));
  m.start();
  std::span<const float> logits = m.feed(prompt);
  for (int64_t i = 0; i < o.tokens; ++i) {
    const int32_t t = sample_token(logits, o.temperature, rng);
    out.push_back(t);
    if (on_token) on_token(t);
    if (i + 1 < o.tokens) logits = m.step(t);
  }
  return out;
}

}  // namespace sculpt::infer

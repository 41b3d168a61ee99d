// Text generation with a text model's InferenceModel: the prompt fed from a zero state, then
// each next token drawn from softmax(logits / temperature) and fed back. The draws come from one
// Rng seeded with `seed`, so a seed gives the same text on every machine; temperature 0 takes
// the most likely token every time (greedy, no draws).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/rng.h"
#include "infer/inference_model.h"

namespace sculpt::infer {

struct GenerateOptions {
  int64_t tokens = 200;      // to generate, in [1, kMaxGenerateTokens]
  double temperature = 1.0;  // finite, >= 0; 0: greedy
  uint64_t seed = 0;
};

// ConfigError naming the field (and the range) for tokens or a temperature out of range.
void check_generate_options(const GenerateOptions& o);

// A token id drawn from softmax(logits / temperature) with one rng.uniform() draw; temperature
// 0 (or one so small that one logit takes all the mass) gives the first largest logit.
// Requires a non-empty span of finite logits. Allocates nothing.
int32_t sample_token(std::span<const float> logits, double temperature, Rng& rng);

// Feeds `prompt` (non-empty token ids) from a zero state, then generates o.tokens ids, calling
// `on_token` with each as it comes (may be empty); returns them. Throws what check_generate_options
// and InferenceModel::feed throw.
std::vector<int32_t> generate(InferenceModel& m, std::span<const int32_t> prompt,
                              const GenerateOptions& o,
                              const std::function<void(int32_t)>& on_token = {});

}  // namespace sculpt::infer

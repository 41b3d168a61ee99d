// Internal to the CLI: `sculpt infer MODEL --prompt TEXT` (infer_generate.cpp), text generation
// with a text model's export.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sculpt::cli {

struct GenerateArgs {
  std::optional<std::string> prompt;  // set: generate (--prompt "" is an error, not absent)
  int64_t tokens = 200;
  double temperature = 1.0;
  int64_t seed = 0;
  std::string kernels = "auto";  // --kernels: the gate matrices' kernels at batch 1
  int threads = 0;
};

// Prints the prompt and what the model generates after it to stdout (timing to stderr). One
// clear error each: an empty prompt, --tokens, --temperature or --seed out of range (ConfigError,
// before the model is read), a model without a vocabulary (ConfigError), a prompt character the
// vocabulary lacks (DataError naming it and its position).
void run_generate(const std::string& model, const GenerateArgs& a);

}  // namespace sculpt::cli

// Size limits shared by the file readers and by whatever a file or a recipe can make Sculpt
// allocate: what a header may declare, how big a model, a batch's activations, a text file or a
// run may be, and how many threads. Readers check declared sizes against these (and against the
// file's size) before allocating anything. docs/reliability.md lists them.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>

namespace sculpt {

// Largest tensor a reader accepts: 2^31 entries (8 GiB of floats). No model or data set trained
// on a CPU comes near it, so a larger claim means a damaged or hostile header.
inline constexpr int64_t kMaxTensorNumel = int64_t{1} << 31;
inline constexpr const char* kMaxTensorText = "2^31 entries";

// Largest model: 2^27 parameters (512 MiB of fp32 weights; with gradients and Adam's two state
// arrays 2 GiB). Checked as layers declare their parameters, before the arena is allocated.
inline constexpr int64_t kMaxModelParams = int64_t{1} << 27;
inline constexpr const char* kMaxModelParamsText = "2^27 (134,217,728)";

// Largest activation memory of one batch, in floats: every layer's output, the two gradient
// buffers and the layers' scratch (im2col columns, pooling indices, dropout masks): 2^30 floats
// (4 GiB). Checked before the buffers are allocated, for training and inference alike.
inline constexpr int64_t kMaxActivationFloats = int64_t{1} << 30;
inline constexpr const char* kMaxActivationText = "2^30 floats (4 GiB)";

// Most threads a run may ask for (train.threads, --threads). OpenMP starts them all and layers
// keep per-thread scratch, so a mistyped 100000 would exhaust memory or stacks.
inline constexpr int64_t kMaxThreads = 256;

// Most optimizer steps a run may have (train.epochs x steps per epoch): 2^40, far beyond any
// CPU run, and small enough that step arithmetic (and a double holding a step) stays exact.
inline constexpr int64_t kMaxSteps = int64_t{1} << 40;

// Most tokens one generation may produce (`sculpt infer --tokens`): about a megabyte of text,
// far beyond a useful sample from a character model, and a bound on the time a typo can cost.
inline constexpr int64_t kMaxGenerateTokens = int64_t{1} << 20;
inline constexpr const char* kMaxGenerateText = "1,048,576";

// Text inputs are read whole; these cap what a reader takes from a file, a pipe or a device.
inline constexpr int64_t kMaxRecipeBytes = int64_t{1} << 20;  // 1 MiB
inline constexpr int64_t kMaxCsvBytes = int64_t{1} << 28;     // 256 MiB
// A run's metrics.jsonl, read back by `sculpt report`: a record is about 200 bytes and a run
// logs at most one per step, so 1 GiB holds millions of steps.
inline constexpr int64_t kMaxMetricsBytes = int64_t{1} << 30;  // 1 GiB
// Binary files must be regular files no larger than these (a sparse file can claim any size).
inline constexpr int64_t kMaxCheckpointBytes = int64_t{1} << 34;  // 16 GiB
inline constexpr int64_t kMaxExportBytes = int64_t{1} << 32;      // 4 GiB

// a * b for a, b >= 0, saturating at INT64_MAX instead of overflowing.
inline constexpr int64_t mul_sat(int64_t a, int64_t b) {
  constexpr int64_t kMax = INT64_MAX;
  if (a == 0 || b == 0) return 0;
  return a > kMax / b ? kMax : a * b;
}
// a + b for a, b >= 0, saturating at INT64_MAX.
inline constexpr int64_t add_sat(int64_t a, int64_t b) {
  constexpr int64_t kMax = INT64_MAX;
  return a > kMax - b ? kMax : a + b;
}

// The product of `dims` when each is in [0, kMaxTensorNumel] and the product is at most
// kMaxTensorNumel (computed without overflow); -1 otherwise. Dims may be signed or unsigned.
template <class Dims>
int64_t checked_numel(const Dims& dims) {
  constexpr auto kMax = static_cast<uint64_t>(kMaxTensorNumel);
  uint64_t n = 1;
  for (const auto d : dims) {
    if constexpr (std::is_signed_v<std::decay_t<decltype(d)>>) {
      if (d < 0) return -1;
    }
    const auto u = static_cast<uint64_t>(d);
    if (u > kMax || (u != 0 && n > kMax / u)) return -1;
    n *= u;
  }
  return static_cast<int64_t>(n);
}

// "1.5 GiB", "512 MiB", "12 KiB", "100 B": a byte count for messages.
inline std::string human_bytes_binary(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 6) bytes /= 1024.0, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.3g %s", bytes, units[u]);
  return buf;
}

}  // namespace sculpt

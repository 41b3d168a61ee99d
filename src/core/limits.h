// Size limits shared by the file readers: what a header may declare. Readers check declared
// sizes against these and against the file's size before allocating anything.
#pragma once

#include <cstdint>
#include <type_traits>

namespace sculpt {

// Largest tensor a reader accepts: 2^31 entries (8 GiB of floats). No model or data set trained
// on a CPU comes near it, so a larger claim means a damaged or hostile header.
inline constexpr int64_t kMaxTensorNumel = int64_t{1} << 31;
inline constexpr const char* kMaxTensorText = "2^31 entries";

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

}  // namespace sculpt

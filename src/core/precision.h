// The arithmetic of the products in training (train.precision): fp32 everywhere, or bf16
// products with fp32 accumulation (weights, optimizer state, loss, reductions and clipping stay
// fp32; checkpoints too).
#pragma once

#include <span>

#include "core/fields.h"

namespace sculpt {

enum class Precision { kFp32, kBf16 };
inline constexpr Choice<Precision> kPrecisions[] = {{Precision::kFp32, "fp32"},
                                                    {Precision::kBf16, "bf16"}};
constexpr std::span<const Choice<Precision>> choices_of(Precision) { return kPrecisions; }

}  // namespace sculpt

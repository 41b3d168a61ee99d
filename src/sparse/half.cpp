// binary16 <-> binary32 by bit manipulation. Layouts: half = sign:1 exp:5 (bias 15) mant:10,
// float = sign:1 exp:8 (bias 127) mant:23. Integer-only so that DAZ/FTZ cannot change results.
#include "sparse/half.h"

#include <bit>

namespace sculpt::sparse {

namespace {

// Rounds m / 2^shift to the nearest integer, ties to even (shift >= 1).
uint32_t shift_round_even(uint32_t m, int shift) {
  const uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
  return q + ((rem > half || (rem == half && (q & 1u))) ? 1u : 0u);
}

}  // namespace

uint16_t float_to_half(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs = bits & 0x7FFFFFFFu;
  if (abs >= 0x7F800000u) {
    if (abs == 0x7F800000u) return sign | 0x7C00u;
    // NaN: keep the top payload bits and force the quiet bit, so it cannot become infinity.
    return static_cast<uint16_t>(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));
  }
  // 65520 is halfway between the largest half (65504) and 2^16; the tie goes to the even
  // neighbour, 2^16, which overflows to infinity.
  if (abs >= 0x477FF000u) return sign | 0x7C00u;
  const int exp = static_cast<int>(abs >> 23);  // biased float exponent
  if (exp >= 113) {
    // Normal half: rebias the exponent, round the 13 dropped mantissa bits. A mantissa carry
    // correctly bumps the exponent (and cannot overflow: that case returned above).
    const uint32_t rebased = abs - (112u << 23);
    return static_cast<uint16_t>(sign | shift_round_even(rebased, 13));
  }
  // Subnormal half (or zero): value = m * 2^(exp - 150) with the implicit bit, counted in units
  // of 2^-24 that is m / 2^(126 - exp). A float subnormal (exp 0) scales like exp 1.
  const uint32_t m = exp == 0 ? (abs & 0x7FFFFFu) : ((abs & 0x7FFFFFu) | 0x800000u);
  const int shift = 126 - (exp == 0 ? 1 : exp);
  if (shift > 24) return sign;  // below half of 2^-24 (m < 2^24): rounds to zero
  // A result of 0x400 is the smallest normal, which the encoding gives for free.
  return static_cast<uint16_t>(sign | shift_round_even(m, shift));
}

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  int32_t exp = (h >> 10) & 0x1F;
  uint32_t mant = h & 0x3FFu;
  if (exp == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (mant << 13));
  if (exp == 0) {
    if (mant == 0) return std::bit_cast<float>(sign);
    // Subnormal: normalise so the leading 1 becomes the implicit bit (exp may go below 1).
    exp = 1;
    while (!(mant & 0x400u)) {
      mant <<= 1;
      --exp;
    }
    mant &= 0x3FFu;
  }
  return std::bit_cast<float>(sign | (static_cast<uint32_t>(exp + 112) << 23) | (mant << 13));
}

}  // namespace sculpt::sparse

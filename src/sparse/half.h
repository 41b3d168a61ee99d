// IEEE 754 binary16 ("half") conversion in portable integer code (no F16C needed), for storing
// sparse weights at half the size. float -> half rounds to nearest, ties to even; subnormals,
// infinities and NaN (quiet, payload kept where it fits) are handled; independent of the FPU's
// rounding mode and of flush-to-zero settings.
#pragma once

#include <cstdint>

namespace sculpt::sparse {

uint16_t float_to_half(float f);
float half_to_float(uint16_t h);  // exact: every half is a float

}  // namespace sculpt::sparse

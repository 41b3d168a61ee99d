// <immintrin.h> for the hand-written x86 kernels. GCC 12 flags the deliberately undefined
// registers inside the AVX-512 intrinsic headers (-W(maybe-)uninitialized, GCC bug 105593):
// silenced for these headers only.
#pragma once

#pragma GCC diagnostic push
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#pragma GCC diagnostic pop

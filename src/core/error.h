// The error family (include/sculpt/error.h, the public header) and the helpers the library
// raises errors with: excerpt() for quoting a file, SCULPT_CHECK at API boundaries.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "sculpt/error.h"

namespace sculpt {

// A piece of a file quoted in a message: at most `max` bytes, then "..." (a binary file's
// "cell" can be megabytes long). Error escapes what is not printable.
inline std::string excerpt(std::string_view text, size_t max = 40) {
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, max)) + "...";
}

}  // namespace sculpt

// Always-on check at API boundaries: throws ErrorType(message) when cond is false.
#define SCULPT_CHECK(cond, ErrorType, ...)     \
  do {                                         \
    if (!(cond)) throw ErrorType(__VA_ARGS__); \
  } while (0)

// Internal invariant inside loops; compiled out of release builds.
#ifdef NDEBUG
#define SCULPT_DCHECK(cond) ((void)0)
#else
#include <cassert>
#define SCULPT_DCHECK(cond) assert(cond)
#endif

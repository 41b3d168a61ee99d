// Shared by the fuzz targets: the input as bytes, and the rule that a reader may only fail with
// a typed sculpt::Error whose message is one non-empty line. Anything else escapes: libFuzzer
// reports an uncaught exception (std::bad_alloc from a huge allocation included) as a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/error.h"

namespace sculpt::fuzz {

inline std::string_view as_bytes(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs decode(); a sculpt::Error is the expected outcome for most inputs.
template <class F>
int expect_clean_errors(F&& decode) {
  try {
    decode();
  } catch (const Error& e) {
    const std::string_view what = e.what();
    if (what.empty() || what.find('\n') != std::string_view::npos) {
      std::fprintf(stderr, "error message is not one line: [%s]\n", e.what());
      std::abort();
    }
  }
  return 0;
}

}  // namespace sculpt::fuzz

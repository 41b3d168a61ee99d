// A test that cannot run skips visibly, and under CI=true a missing dependency is a failure:
// SCULPT_REQUIRE(have_fashion(), "Fashion-MNIST is not installed (scripts/deps.sh installs it)")
// skips the test with that reason on a developer's machine and fails it in CI, where
// scripts/deps.sh must have installed everything. CTest reports a skip as skipped (see
// tests/CMakeLists.txt), never as passed.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sculpt::testing {

inline bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::strcmp(ci, "true") == 0;
}

}  // namespace sculpt::testing

// Also printed to stderr: GoogleTest's brief output (the sanitizer shards) omits skip messages.
#define SCULPT_REQUIRE(condition, reason)                                                  \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      if (::sculpt::testing::in_ci())                                                      \
        FAIL() << (reason) << " (CI=true: a missing dependency is a failure)";             \
      std::fprintf(stderr, "skipped: %s\n", static_cast<const char*>(reason));             \
      GTEST_SKIP() << (reason);                                                            \
    }                                                                                      \
  } while (0)

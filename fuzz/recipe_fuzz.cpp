// Fuzz target: the recipe reader (TOML, then every table's fields and the cross-field checks).
// A recipe that loads must also load again from its resolved form (to_toml), which is what a
// run directory keeps: failing that is a finding, not an expected error.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_target.h"
#include "io/recipe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(sculpt::fuzz::as_bytes(data, size));
  std::string resolved;
  sculpt::fuzz::expect_clean_errors(
      [&] { resolved = sculpt::to_toml(sculpt::parse_recipe(text, "fuzz.toml")); });
  if (resolved.empty()) return 0;
  try {
    sculpt::parse_recipe(resolved, "resolved.toml");
  } catch (const sculpt::Error& e) {
    std::fprintf(stderr, "the resolved recipe does not load again: %s\n%s\n", e.what(),
                 resolved.c_str());
    std::abort();
  }
  return 0;
}

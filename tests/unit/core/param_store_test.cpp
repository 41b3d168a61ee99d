// ParamStore: offsets, alignment, lookup and zeroing of the one parameter arena.
#include "core/param_store.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "core/error.h"

namespace sculpt {
namespace {

TEST(ParamStore, EntriesAreAlignedAndDisjoint) {
  ParamStore ps;
  size_t w = ps.add("fc1.weight", {3, 5});
  size_t b = ps.add("fc1.bias", {3}, {.decays = false, .prunable = false});
  ps.finalize();
  EXPECT_EQ(ps.entry(w).size, 15);
  EXPECT_EQ(ps.entry(b).offset, 16);
  EXPECT_EQ(ps.num_params(), 18);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ps.value(b)) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ps.grad(w)) % 64, 0u);
  EXPECT_FALSE(ps.entry(b).flags.decays);
  EXPECT_TRUE(ps.entry(w).flags.prunable);
  ASSERT_TRUE(ps.find("fc1.bias").has_value());
  EXPECT_EQ(*ps.find("fc1.bias"), b);
  EXPECT_FALSE(ps.find("fc2.bias").has_value());
}

TEST(ParamStore, CountsLeaveOutBuffers) {
  ParamStore ps;
  const size_t w = ps.add("bn.weight", {4});
  const size_t m = ps.add("bn.running_mean", {4}, {.decays = false, .prunable = false,
                                                   .trainable = false});
  ps.finalize();
  for (float& v : ps.value_span(m)) v = 1.0f;
  ps.value(w)[0] = 2.0f;
  ps.value(w)[3] = -1.0f;
  EXPECT_EQ(ps.num_params(), 4);
  EXPECT_EQ(ps.num_nonzero(), 2) << "the running mean is a buffer, not a parameter";
}

TEST(ParamStore, ZeroGradsClearsTheWholeArena) {
  ParamStore ps;
  ps.add("a", {40});
  ps.finalize();
  for (float& g : ps.grads()) g = 3.0f;
  ps.zero_grads();
  for (float g : ps.grads()) EXPECT_EQ(g, 0.0f);
}

TEST(ParamStore, RejectsDuplicatesAndLateAdds) {
  ParamStore ps;
  ps.add("a", {2});
  EXPECT_THROW(ps.add("a", {2}), ConfigError);
  ps.finalize();
  EXPECT_THROW(ps.add("b", {2}), ConfigError);
}

}  // namespace
}  // namespace sculpt

// Criteria scores worked by hand on a three-weight store: what each accumulates over batches
// and how it scores.
#include "prune/criterion.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/param_store.h"

namespace sculpt::prune {
namespace {

struct Store {
  ParamStore ps;
  size_t w;
  Store() {
    w = ps.add("fc.weight", {3});
    ps.finalize();
    const float values[3] = {2.0f, -1.0f, 0.5f};
    std::copy(values, values + 3, ps.value(w));
  }
  void set_grads(std::vector<float> g) { std::copy(g.begin(), g.end(), ps.grad(w)); }
};

// Two batches with gradients (1, -2, 4) and (-1, 2, 0): taylor sees their sum (0, 0, 4), so
// its first two scores vanish; fisher sees the squares (2, 8, 16) and keeps them.
TEST(Criterion, FisherIsHalfTheSquaredWeightTimesTheSummedSquaredGradients) {
  Store s;
  const auto fisher = make_criterion("fisher");
  EXPECT_EQ(fisher->needs(), Needs::kGradients);
  AlignedVector<float> stat(size_t(s.ps.arena_size()), 0.0f), out(stat.size(), -1.0f);
  s.set_grads({1.0f, -2.0f, 4.0f});
  fisher->accumulate(s.ps, stat);
  s.set_grads({-1.0f, 2.0f, 0.0f});
  fisher->accumulate(s.ps, stat);
  fisher->score(s.ps, stat, out);
  EXPECT_FLOAT_EQ(out[0], 0.5f * 4.0f * 2.0f);    // w = 2:    1/2 * 4 * (1 + 1)
  EXPECT_FLOAT_EQ(out[1], 0.5f * 1.0f * 8.0f);    // w = -1:   1/2 * 1 * (4 + 4)
  EXPECT_FLOAT_EQ(out[2], 0.5f * 0.25f * 16.0f);  // w = 0.5:  1/2 * 0.25 * 16

  const auto taylor = make_criterion("taylor");
  AlignedVector<float> tstat(stat.size(), 0.0f), tout(stat.size(), -1.0f);
  s.set_grads({1.0f, -2.0f, 4.0f});
  taylor->accumulate(s.ps, tstat);
  s.set_grads({-1.0f, 2.0f, 0.0f});
  taylor->accumulate(s.ps, tstat);
  taylor->score(s.ps, tstat, tout);
  EXPECT_EQ(tout[0], 0.0f);
  EXPECT_EQ(tout[1], 0.0f);
  EXPECT_GT(out[0], 0.0f);
  EXPECT_GT(out[1], 0.0f);
}

}  // namespace
}  // namespace sculpt::prune

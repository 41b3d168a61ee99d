// ArenaNorms::mask_and_measure, the training step's one pass over the gradients: the masked
// values are the reference's multiply bit for bit, the sums are those measure() gives on the
// masked arena (so every clipper sees the same numbers), a NaN or infinity anywhere (under a
// zero mask too) makes the total non-finite, and the bits do not depend on the thread count.
#include "clip/arena_norms.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "clip/clipper.h"
#include "clip/config.h"
#include "core/rng.h"

namespace sculpt::clip {
namespace {

// Three tensors (the middle one spans several blocks and makes the pass parallel), padding
// between them.
struct MaskedArena {
  ParamStore ps;
  std::vector<uint8_t> keep;
  explicit MaskedArena(uint64_t seed) {
    ps.add("a", {3, 7});
    ps.add("b", {kBlockFloats * 9 + 17});  // above kParallelThreshold
    ps.add("c", {5});
    ps.finalize();
    Rng rng(seed);
    keep.assign(size_t(ps.arena_size()), 0);
    for (size_t t = 0; t < ps.count(); ++t) {
      for (int64_t i = 0; i < ps.entry(t).size; ++i) {
        ps.grad(t)[i] = static_cast<float>(rng.normal());
        keep[size_t(ps.entry(t).offset + i)] = rng.uniform_float() < 0.7f ? 1 : 0;
      }
    }
  }
  double reference_sumsq() const {
    double s = 0.0;
    for (size_t i = 0; i < keep.size(); ++i) {
      const float g = ps.grads()[i] * static_cast<float>(keep[i]);
      s += double{g} * g;
    }
    return s;
  }
};

TEST(ArenaNorms, MaskAndMeasureIsMaskThenMeasure) {
  MaskedArena got(3), want(3);
  const double reference = got.reference_sumsq();
  ArenaNorms fused, apart;
  fused.prepare(got.ps);
  fused.mask_and_measure(got.ps.grads().data(), got.keep.data());
  for (size_t i = 0; i < want.keep.size(); ++i)
    want.ps.grads()[i] *= static_cast<float>(want.keep[i]);
  apart.prepare(want.ps);
  apart.measure(want.ps.grads().data(), /*with_max=*/false);
  ASSERT_EQ(0, std::memcmp(got.ps.grads().data(), want.ps.grads().data(),
                           got.keep.size() * sizeof(float)));
  EXPECT_EQ(fused.total().sumsq, apart.total().sumsq);
  EXPECT_NEAR(fused.total().sumsq, reference, 1e-12 * reference);
  // keep == nullptr measures without touching the values.
  MaskedArena plain(3);
  const std::vector<float> before(plain.ps.grads().begin(), plain.ps.grads().end());
  fused.mask_and_measure(plain.ps.grads().data(), nullptr);
  EXPECT_EQ(0, std::memcmp(before.data(), plain.ps.grads().data(), before.size() * 4));
  apart.measure(plain.ps.grads().data(), false);
  EXPECT_EQ(fused.total().sumsq, apart.total().sumsq);
}

TEST(ArenaNorms, NonFiniteGradientsAnywhereMakeTheTotalNonFinite) {
  for (float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                    std::nanf("")}) {
    for (size_t t = 0; t < 3; ++t) {
      MaskedArena a(5);
      const int64_t at = a.ps.entry(t).offset + a.ps.entry(t).size - 1;
      a.ps.grads()[size_t(at)] = bad;
      a.keep[size_t(at)] = 0;  // masked away, still reported: NaN * 0 is NaN
      ArenaNorms n;
      n.prepare(a.ps);
      n.mask_and_measure(a.ps.grads().data(), a.keep.data());
      EXPECT_FALSE(std::isfinite(n.total().sumsq)) << bad << " in tensor " << t;
    }
  }
}

TEST(ArenaNorms, MaskAndMeasureBitsDoNotDependOnTheThreadCount) {
  const int before = omp_get_max_threads();
  std::vector<double> totals;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    MaskedArena a(9);
    ArenaNorms n;
    n.prepare(a.ps);
    n.mask_and_measure(a.ps.grads().data(), a.keep.data());
    totals.push_back(n.total().sumsq);
  }
  omp_set_num_threads(before);
  EXPECT_EQ(totals[0], totals[1]);
  EXPECT_EQ(totals[0], totals[2]);
}

// The rules that reuse the step's sums (none, global-norm) give what they give measuring
// themselves, bit for bit, clipping or not; the others measure again.
TEST(ArenaNorms, ApplyMeasuredIsApply) {
  for (const char* rule : {"none", "global-norm", "value"}) {
    for (double limit : {0.5, 1e6}) {
      for (const char* norm : {"2", "inf"}) {
        ClipConfig cfg;
        cfg.set("name", rule);
        if (std::string(rule) == "global-norm") cfg.set("max_norm", limit).set("norm_type", norm);
        if (std::string(rule) == "value") cfg.set("max_value", limit / 100.0);
        MaskedArena measured(11), plain(11);
        ArenaNorms n;
        n.prepare(measured.ps);
        n.mask_and_measure(measured.ps.grads().data(), nullptr);
        const ClipReport a = make_clipper(cfg)->apply_measured(measured.ps, n);
        const ClipReport b = make_clipper(cfg)->apply(plain.ps);
        const std::string what = std::string(rule) + " " + norm + " " + std::to_string(limit);
        EXPECT_EQ(a.norm_before, b.norm_before) << what;
        EXPECT_EQ(a.norm_after, b.norm_after) << what;
        EXPECT_EQ(a.scale, b.scale) << what;
        EXPECT_EQ(a.clipped, b.clipped) << what;
        EXPECT_EQ(0, std::memcmp(measured.ps.grads().data(), plain.ps.grads().data(),
                                 measured.keep.size() * sizeof(float)))
            << what;
      }
    }
  }
}

}  // namespace
}  // namespace sculpt::clip

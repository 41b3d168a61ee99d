// Sculpt's value, per-tensor norm and global-norm clippers against torch.nn.utils.clip_grad_value_
// and clip_grad_norm_ (tests/golden/clip_*.json from scripts/make_clip_golden.py): the
// gradients after clipping, the report's global norm, and what the report counts as clipped.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "clip/clipper.h"
#include "core/param_store.h"
#include "golden/golden.h"
#include "io/recipe.h"

namespace sculpt::clip {
namespace {

struct Loaded {
  ParamStore ps;
  ClipConfig cfg;
};

void load_case(const nlohmann::json& j, Loaded& out) {
  for (const auto& t : j["tensors"])
    out.ps.add(t["name"].get<std::string>(), t["shape"].get<Shape>());
  out.ps.finalize();
  for (size_t i = 0; i < out.ps.count(); ++i) {
    const std::vector<float> g = golden::floats(j["tensors"][i]["grad"]);
    ASSERT_EQ(static_cast<int64_t>(g.size()), out.ps.entry(i).size);
    std::copy(g.begin(), g.end(), out.ps.grad(i));
  }
  out.cfg = parse_recipe(j["toml"].get<std::string>(), j["case"].get<std::string>()).clip;
}

// What the report should count: elements (value), tensors (norm), 1 (global-norm).
int64_t expected_count(const nlohmann::json& j, const std::string& rule) {
  int64_t n = 0;
  for (const auto& changed : j["changed"])
    n += rule == "value" ? changed.get<int64_t>() : changed > 0;
  return rule == "global-norm" ? (n > 0) : n;
}

TEST(ClipGolden, MatchesTorchOnEveryCase) {
  const std::vector<std::string> names = golden::names_of_kind("clip");
  ASSERT_GE(names.size(), 14u) << "regenerate with /usr/bin/python3 scripts/make_clip_golden.py";
  std::vector<std::string> rules;
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const nlohmann::json j = golden::load(name);
    Loaded c;
    load_case(j, c);
    rules.push_back(c.cfg.name);
    const ClipReport r = make_clipper(c.cfg)->apply(c.ps);
    // Tolerance relative to the case's largest value: the tiny cases are all below 1e-5.
    double top = 0;
    for (const auto& t : j["after"])
      for (const auto& v : t) top = std::max(top, std::abs(v.get<double>()));
    for (size_t t = 0; t < c.ps.count(); ++t)
      EXPECT_TRUE(golden::near(c.ps.entry(t).name, c.ps.grad(t), j["after"][t], 1e-6 * top, 1e-5))
          << j["torch"].get<std::string>();
    const double norm = j["norm_l2"].get<double>();
    EXPECT_NEAR(r.norm_before, norm, 1e-12 * norm);
    EXPECT_EQ(r.clipped_any, j["clipped"].get<bool>());
    EXPECT_EQ(r.clipped, expected_count(j, c.cfg.name));
    if (!r.clipped_any) {
      EXPECT_EQ(r.scale, 1.0);
      EXPECT_EQ(r.norm_after, r.norm_before);
    } else {
      EXPECT_LT(r.scale, 1.0);
      EXPECT_LT(r.norm_after, r.norm_before);
    }
  }
  for (const char* rule : {"value", "norm", "global-norm"})
    EXPECT_NE(std::find(rules.begin(), rules.end(), rule), rules.end()) << rule;
}

// Global norm: the factor torch applies is max_norm / (N + 1e-6); the report gives it and the
// norm after, which is max_norm up to that 1e-6.
TEST(ClipGolden, GlobalNormReportsTorchsFactor) {
  const nlohmann::json j = golden::load("clip_global_l2");
  Loaded c;
  load_case(j, c);
  const ClipReport r = make_clipper(c.cfg)->apply(c.ps);
  const double n = j["norm_l2"].get<double>();
  EXPECT_NEAR(r.scale, 1.0 / (n + 1e-6), 2e-8);  // the float factor; without eps 7e-8 off
  EXPECT_NEAR(r.norm_after, 1.0, 1e-6);
  EXPECT_EQ(r.clipped, 1);
}

}  // namespace
}  // namespace sculpt::clip

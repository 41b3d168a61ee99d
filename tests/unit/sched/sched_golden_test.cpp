// Every schedule family against torch.optim.lr_scheduler 1.13: golden files from
// scripts/make_sched_golden.py (tests/golden/sched_*.json, kind "schedule"). Each file holds a
// Sculpt recipe, the run length to build its schedule for, and the rate (and the cycled
// momentum/beta1) torch gives at every step; plateau files also hold one metric per epoch,
// fed to observe() after each epoch's rate is checked. Tolerance: 1e-9 relative + 1e-15.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "golden/golden.h"
#include "io/recipe.h"
#include "optim/optimizer.h"
#include "sched/schedule.h"

namespace sculpt::sched {
namespace {

using nlohmann::json;

constexpr double kRtol = 1e-9, kAtol = 1e-15;
constexpr int kMaxLines = 5;  // mismatches listed per case

bool close(double got, double want) {
  return std::isfinite(got) && std::abs(got - want) <= kRtol * std::abs(want) + kAtol;
}

// Collects the mismatches of one case; lists the first kMaxLines.
class Mismatches {
 public:
  explicit Mismatches(std::string name) : name_(std::move(name)) {}
  void add(const char* what, int64_t step, const std::string& got, double want) {
    if (++count_ > kMaxLines) return;
    std::ostringstream line;
    line.precision(17);
    line << "\n  " << name_ << " " << what << " step " << step << ": got " << got << ", torch "
         << want;
    detail_ += line.str();
  }
  void check(const char* what, int64_t step, double got, double want) {
    if (close(got, want)) return;
    std::ostringstream g;
    g.precision(17);
    g << got;
    add(what, step, g.str(), want);
  }
  ::testing::AssertionResult result(int64_t compared) const {
    if (count_ == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << name_ << ": " << count_ << " of " << compared << " values differ from PyTorch"
           << detail_ << (count_ > kMaxLines ? "\n  ..." : "");
  }

 private:
  std::string name_;
  int64_t count_ = 0;
  std::string detail_;
};

// The schedule a golden file describes, built as the trainer builds it.
std::optional<Schedule> build(const std::string& name, const json& g) {
  try {
    const RecipeConfig r = parse_recipe(g.at("toml").get<std::string>(), name + ".json");
    return make_schedule(r.schedule, optim::base_lr(r.optim),
                         {.steps_per_epoch = g.at("steps_per_epoch").get<int64_t>(),
                          .total_steps = g.at("total_steps").get<int64_t>()});
  } catch (const std::exception& e) {
    ADD_FAILURE() << name << ": the recipe does not build a schedule: " << e.what() << "\nrecipe:\n"
                  << g.at("toml").get<std::string>();
    return std::nullopt;
  }
}

class ScheduleGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(ScheduleGolden, MatchesTorch) {
  const std::string& name = GetParam();
  const json g = golden::load(name);
  ASSERT_EQ(g.value("kind", ""), "schedule");
  SCOPED_TRACE(g.at("torch").get<std::string>());
  std::optional<Schedule> s = build(name, g);
  if (!s) return;

  const int64_t n = g.at("total_steps").get<int64_t>();
  const json& lr = g.at("lr");
  ASSERT_EQ(static_cast<int64_t>(lr.size()), n) << "one rate per step";
  Mismatches bad(name);

  if (g.contains("metrics")) {
    // Reduce-on-plateau: one step per epoch; the rate of epoch e, then epoch e's metric.
    const json& metrics = g.at("metrics");
    ASSERT_EQ(g.at("steps_per_epoch").get<int64_t>(), 1);
    ASSERT_EQ(metrics.size(), lr.size());
    ASSERT_TRUE(s->watches()) << name << ": [schedule.plateau] is set";
    for (int64_t e = 0; e < n; ++e) {
      bad.check("lr", e, s->at(e), lr[e].get<double>());
      s->observe(metrics[e].get<double>());
    }
    EXPECT_TRUE(bad.result(n));
    return;
  }

  EXPECT_FALSE(s->watches()) << name;
  for (int64_t step = 0; step < n; ++step)
    bad.check("lr", step, s->at(step), lr[step].get<double>());
  int64_t compared = n;
  if (g.contains("momentum")) {
    const json& mom = g.at("momentum");
    ASSERT_EQ(static_cast<int64_t>(mom.size()), n) << "one momentum per step";
    EXPECT_TRUE(s->cycles_momentum()) << name << ": torch cycles the momentum";
    for (int64_t step = 0; step < n; ++step) {
      const std::optional<double> m = s->momentum_at(step);
      if (m)
        bad.check("momentum", step, *m, mom[step].get<double>());
      else
        bad.add("momentum", step, "none", mom[step].get<double>());
    }
    compared += n;
  } else {
    EXPECT_FALSE(s->cycles_momentum()) << name << ": torch keeps the momentum fixed";
  }
  EXPECT_TRUE(bad.result(compared));
}

INSTANTIATE_TEST_SUITE_P(Torch, ScheduleGolden,
                         ::testing::ValuesIn(golden::names_of_kind("schedule")),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// Whether `text` calls torch class `cls` (so "StepLR(" does not match "MultiStepLR(").
bool calls(const std::string& text, const std::string& cls) {
  const std::string call = cls + "(";
  for (size_t at = text.find(call); at != std::string::npos; at = text.find(call, at + 1))
    if (at == 0 || !std::isalnum(static_cast<unsigned char>(text[at - 1]))) return true;
  return false;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Deleting or renaming golden files must not silently drop a torch family (or a feature of
// one) from the comparison.
TEST(ScheduleGoldenCoverage, EveryTorchFamilyHasGoldenFiles) {
  struct Need {
    std::string what;
    std::function<bool(const std::string& torch, const std::string& toml)> match;
    int min = 1;
  };
  const auto cls = [](std::string c) {
    return [c](const std::string& t, const std::string&) { return calls(t, c); };
  };
  const auto cls_with = [](std::string c, std::vector<std::string> parts) {
    return [c, parts](const std::string& t, const std::string& toml) {
      if (!calls(t, c)) return false;
      for (const std::string& p : parts)
        if (!has(t, p) && !has(toml, p)) return false;
      return true;
    };
  };
  const std::vector<Need> needs = {
      {"StepLR", cls("StepLR")},
      {"MultiStepLR", cls("MultiStepLR")},
      {"ExponentialLR", cls("ExponentialLR")},
      {"CosineAnnealingLR with eta_min 0", cls_with("CosineAnnealingLR", {"eta_min=0.0)"})},
      {"CosineAnnealingLR with eta_min > 0",
       [](const std::string& t, const std::string&) {
         return calls(t, "CosineAnnealingLR") && has(t, "eta_min=") && !has(t, "eta_min=0.0)");
       }},
      {"CosineAnnealingWarmRestarts T_mult=1",
       cls_with("CosineAnnealingWarmRestarts", {"T_mult=1,"})},
      {"CosineAnnealingWarmRestarts T_mult=2",
       cls_with("CosineAnnealingWarmRestarts", {"T_mult=2,"})},
      {"CyclicLR triangular", cls_with("CyclicLR", {"mode='triangular'"})},
      {"CyclicLR triangular2", cls_with("CyclicLR", {"mode='triangular2'"})},
      {"CyclicLR exp_range", cls_with("CyclicLR", {"mode='exp_range'"})},
      {"CyclicLR cycle_momentum", cls_with("CyclicLR", {"cycle_momentum=True"})},
      {"OneCycleLR cos", cls_with("OneCycleLR", {"anneal_strategy='cos'"})},
      {"OneCycleLR linear", cls_with("OneCycleLR", {"anneal_strategy='linear'"})},
      {"OneCycleLR three_phase", cls_with("OneCycleLR", {"three_phase=True"})},
      {"OneCycleLR SGD momentum",
       cls_with("OneCycleLR", {"cycle_momentum=True", "name = \"sgd\""})},
      {"OneCycleLR Adam beta1", cls_with("OneCycleLR", {"cycle_momentum=True", "name = \"adam\""})},
      {"PolynomialLR", cls("PolynomialLR")},
      {"LinearLR", cls("LinearLR")},
      {"SequentialLR warmup", cls_with("SequentialLR", {"warmup = "})},
      {"SequentialLR of 3 phases",
       [](const std::string& t, const std::string& toml) {
         const size_t m = t.find("milestones=[");
         return calls(t, "SequentialLR") && has(toml, "[[schedule.phases]]") &&
                m != std::string::npos && t.find(',', m) < t.find(']', m);
       }},
      {"ReduceLROnPlateau", cls("ReduceLROnPlateau"), 4},
      {"unit = \"epoch\"",
       [](const std::string&, const std::string& toml) {
         return has(toml, "unit = \"epoch\"") && has(toml, "update = \"epoch\"");
       }},
  };
  std::vector<json> files;
  for (const std::string& name : golden::names_of_kind("schedule"))
    files.push_back(golden::load(name));
  EXPECT_GE(files.size(), 30u) << "schedule golden files (scripts/make_sched_golden.py)";
  for (const Need& need : needs) {
    int count = 0;
    for (const json& g : files) {
      if (need.match(g.value("torch", ""), g.value("toml", ""))) ++count;
    }
    EXPECT_GE(count, need.min) << "golden files for " << need.what
                               << " (regenerate: /usr/bin/python3 scripts/make_sched_golden.py)";
  }
}

}  // namespace
}  // namespace sculpt::sched

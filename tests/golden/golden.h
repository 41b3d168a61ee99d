// Reading the PyTorch golden vectors written by scripts/make_golden.py, and comparing buffers
// against them with a combined tolerance |got - want| <= atol + rtol * |want|.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sculpt::golden {

// Loads tests/golden/<name>.json; fails the calling test (fatal) when it is missing.
inline nlohmann::json load(const std::string& name) {
  const std::filesystem::path path = std::filesystem::path(SCULPT_GOLDEN_DIR) / (name + ".json");
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "missing golden file " << path
                  << " (regenerate with /usr/bin/python3 scripts/make_golden.py)";
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(in);
}

// Names (without .json) of every golden file whose "kind" is `kind`, sorted.
inline std::vector<std::string> names_of_kind(const std::string& kind) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(SCULPT_GOLDEN_DIR)) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    if (nlohmann::json::parse(in).value("kind", "") == kind) names.push_back(e.path().stem());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A JSON number list as float32: inputs were written as decimals that round to exactly the
// float32 values torch used.
inline std::vector<float> floats(const nlohmann::json& j) {
  std::vector<float> out;
  out.reserve(j.size());
  for (const auto& v : j) out.push_back(v.get<float>());
  return out;
}

// Compares got[0, want.size()) with the float64 reference; lists the first few mismatches.
inline ::testing::AssertionResult near(const std::string& what, const float* got,
                                       const nlohmann::json& want, double atol = 1e-5,
                                       double rtol = 1e-5) {
  int64_t bad = 0;
  std::string detail;
  for (size_t i = 0; i < want.size(); ++i) {
    const double w = want[i].get<double>(), g = got[i];
    if (std::isfinite(g) && std::abs(g - w) <= atol + rtol * std::abs(w)) continue;
    if (++bad <= 5)
      detail += "\n  [" + std::to_string(i) + "] got " + std::to_string(g) + ", torch " +
                std::to_string(w);
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": " << bad << " of " << want.size() << " values differ from PyTorch" << detail;
}

// Same, with every reference value multiplied by `scale` (for accumulated gradients).
inline ::testing::AssertionResult near_scaled(const std::string& what, const float* got,
                                              const nlohmann::json& want, double scale) {
  nlohmann::json scaled = nlohmann::json::array();
  for (const auto& v : want) scaled.push_back(v.get<double>() * scale);
  return near(what, got, scaled, 1e-5 * scale, 1e-5);
}

}  // namespace sculpt::golden

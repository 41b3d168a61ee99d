// "Did you mean" hints for unknown names (layer types, arguments, recipe keys): the candidate
// with the smallest Levenshtein distance, offered only when it is plausibly a typo.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sculpt {

// Edit distance (insert, delete, substitute; each costs 1), case-sensitive.
inline size_t levenshtein(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      const size_t sub = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({up + 1, row[j - 1] + 1, sub});
      diag = up;
    }
  }
  return row[b.size()];
}

// Returns "did you mean 'x'?" for the closest candidate when its distance is at most about a
// third of the word's length (at least 1, at most 3), or when one contains the other; else "".
inline std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  size_t best_d = 0;
  for (const auto& c : candidates) {
    const size_t d = levenshtein(word, c);
    if (!best || d < best_d) best = &c, best_d = d;
  }
  if (!best || word.empty()) return {};
  const size_t limit = std::clamp<size_t>(std::max(word.size(), best->size()) / 3, 1, 3);
  const bool contains = best->find(word) != std::string::npos ||
                        (best->size() >= 2 && word.find(*best) != std::string_view::npos);
  if (best_d <= limit || (contains && best_d <= word.size())) return "did you mean '" + *best + "'?";
  return {};
}

}  // namespace sculpt

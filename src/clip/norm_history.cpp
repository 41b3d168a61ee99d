// The norm history of the percentile rules (see norm_history.h).
#include "clip/norm_history.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace sculpt::clip {

double percentile_of_sorted(const std::vector<double>& sorted, double p) {
  const double pos = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double t = pos - static_cast<double>(lo);
  return sorted[lo] + t * (sorted[hi] - sorted[lo]);
}

void NormHistory::record(double norm) {
  order_.push_back(norm);
  sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), norm), norm);
  if (capacity_ > 0 && static_cast<int64_t>(order_.size()) > capacity_) {
    sorted_.erase(std::lower_bound(sorted_.begin(), sorted_.end(), order_.front()));
    order_.pop_front();
  }
}

void NormHistory::clear() {
  order_.clear();
  sorted_.clear();
}

void check_saved_norm(double norm, size_t index, const std::string& rule) {
  if (!std::isfinite(norm) || norm < 0)
    throw NumericError(rule + " history value " + std::to_string(index) + " is " +
                           std::to_string(norm) + "; norms are finite and >= 0",
                       "clip", "the checkpoint is damaged; resume from the previous one");
}

}  // namespace sculpt::clip

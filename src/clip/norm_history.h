// The history of gradient norms the percentile rules clip against (AutoClip keeps one for the
// global norm, quantile-per-layer one per tensor): norms in arrival order and sorted, at most
// `capacity` of them (the most recent), and numpy's percentile of them.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "core/fields.h"

namespace sculpt::clip {

// numpy.percentile(values, p) with linear interpolation; `sorted` ascending, non-empty.
double percentile_of_sorted(const std::vector<double>& sorted, double p);

class NormHistory {
 public:
  explicit NormHistory(int64_t capacity = 0) : capacity_(capacity) {}  // 0: every norm
  // Appends `norm` and drops the oldest beyond the capacity.
  void record(double norm);
  // numpy.percentile of the norms kept; requires at least one.
  double percentile(double p) const { return percentile_of_sorted(sorted_, p); }
  const std::deque<double>& values() const { return order_; }  // oldest first
  size_t size() const { return order_.size(); }
  void clear();

 private:
  int64_t capacity_;
  std::deque<double> order_;    // oldest first
  std::vector<double> sorted_;  // the same values, ascending
};

// Throws NumericError naming `rule` unless `norm` (value `index` of a saved history) is finite
// and >= 0: what set_state accepts of a checkpoint.
void check_saved_norm(double norm, size_t index, const std::string& rule);

// The keys of both percentile rules (percentile, history); `whose` says whose norms are kept,
// `cost` what keeping them all costs.
template <class C>
std::vector<Field<C>> percentile_fields(const char* whose, const char* cost) {
  return {
      {"percentile", &C::percentile, Range{.min = 0, .max = 100, .min_open = true},
       std::string("p: the limit is the p-th percentile of ") + whose + " seen so far"},
      {"history", &C::history, at_least(0),
       std::string("norms remembered (the most recent); 0: all of them (") + cost + ")"},
  };
}

}  // namespace sculpt::clip

// Finite-difference gradient checking of one layer. loss = sum(y * r) in double, with r fixed;
// its gradient w.r.t. y is r, so one backward gives every analytic gradient at once.
#include "nn/gradcheck.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/tensor.h"

namespace sculpt::nn {

namespace {

struct Harness {
  Layer& layer;
  ParamStore ps;
  int64_t n, in_size, out_size;
  Pass pass;
  std::vector<float> x, y, r;

  double loss() {
    layer.forward(ps, x.data(), y.data(), n, pass);
    double acc = 0.0;
    for (int64_t i = 0; i < n * out_size; ++i) acc += double{y[i]} * r[i];
    return acc;
  }
};

// Which entries of a tensor of `size` to check: all, or a random subset.
std::vector<int64_t> pick(int64_t size, int64_t max, Rng& rng) {
  std::vector<int64_t> idx(static_cast<size_t>(size));
  std::iota(idx.begin(), idx.end(), 0);
  if (size > max) {
    rng.shuffle(idx);
    idx.resize(static_cast<size_t>(max));
  }
  return idx;
}

// Compares analytic[idx] with the central difference of h.loss() when perturbing v[idx].
void compare(Harness& h, float* v, const float* analytic, int64_t size, double eps,
             const std::string& label, const GradCheckOptions& o, Rng& rng, GradCheckResult& r) {
  for (int64_t i : pick(size, o.max_checks_per_tensor, rng)) {
    const float saved = v[i];
    v[i] = static_cast<float>(saved + eps);
    const double up = h.loss();
    const double dp = double{v[i]} - saved;  // the step actually taken in float
    v[i] = static_cast<float>(saved - eps);
    const double down = h.loss();
    const double dm = saved - double{v[i]};
    v[i] = saved;
    const double numeric = (up - down) / (dp + dm);
    const double a = analytic[i];
    const double ratio =
        std::fabs(a - numeric) / (o.atol + o.rtol * std::max(std::fabs(a), std::fabs(numeric)));
    ++r.checked;
    if (ratio > r.worst_ratio || !std::isfinite(ratio)) {
      r.worst_ratio = std::isfinite(ratio) ? ratio : 1e30;
      r.worst_where = fmt::format("{}[{}]", label, i);
      r.worst_analytic = a;
      r.worst_numeric = numeric;
    }
  }
}

// Distinct input values on a grid over [-1, 1] (none within half a step of 0), shuffled: the
// perturbation (a quarter step at most) never crosses a ReLU kink or a max-pool tie.
double fill_distinct(std::vector<float>& x, Rng& rng) {
  const int64_t m = static_cast<int64_t>(x.size());
  const double step = 2.0 / static_cast<double>(m);
  std::vector<int64_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  rng.shuffle(order);
  // Even m: half-step offsets; odd m: whole steps (the middle one would land on 0 otherwise).
  const double offset = m % 2 == 0 ? 0.5 : 1.0;
  for (int64_t i = 0; i < m; ++i)
    x[static_cast<size_t>(i)] = static_cast<float>(-1.0 + step * (double(order[i]) + offset));
  return step;
}

}  // namespace

std::string GradCheckResult::summary() const {
  return fmt::format(
      "{}: {} entries checked, worst {} analytic {:.6g} numeric {:.6g} "
      "(|a-n| / tol = {:.3g}, atol {} rtol {})",
      ok ? "ok" : "FAILED", checked, worst_where.empty() ? "-" : worst_where, worst_analytic,
      worst_numeric, worst_ratio, atol, rtol);
}

GradCheckResult check_layer_gradients(Layer& layer, const Shape& in, int64_t n, uint64_t seed,
                                      const GradCheckOptions& options) {
  Harness h{layer, {}, n, numel(in), 0, {}, {}, {}, {}};
  const Shape out = layer.bind(in);
  h.out_size = numel(out);
  layer.declare(h.ps);
  h.ps.finalize();
  Rng rng(seed);
  layer.init(h.ps, rng);
  layer.reserve(n);
  h.pass = Pass{.mode = options.mode, .key = rng.next_u64()};

  h.x.resize(static_cast<size_t>(n * h.in_size));
  h.y.resize(static_cast<size_t>(n * h.out_size));
  h.r.resize(h.y.size());
  // Token ids (Embedding): random whole numbers, which take no gradient.
  const int64_t ids = layer.traits().token_ids;
  const double step = ids > 0 ? 1.0 : fill_distinct(h.x, rng);
  if (ids > 0)
    for (auto& v : h.x) v = static_cast<float>(rng.next_u64() % static_cast<uint64_t>(ids));
  for (auto& v : h.r) v = static_cast<float>(rng.uniform(-1.0, 1.0));

  // Analytic gradients.
  h.loss();
  std::vector<float> dx(h.x.size(), 0.0f);
  h.ps.zero_grads();
  layer.backward(h.ps, h.x.data(), h.y.data(), h.r.data(), dx.data(), n);
  std::vector<float> grads(h.ps.grads().begin(), h.ps.grads().end());

  GradCheckResult res;
  res.atol = options.atol;
  res.rtol = options.rtol;
  if (ids > 0) {  // perturbed ids are no ids: dx must be zero
    for (size_t i = 0; i < dx.size(); ++i)
      if (dx[i] != 0.0f && !(res.worst_ratio > 1.0)) {
        res.worst_ratio = 1e30;
        res.worst_where = fmt::format("dx[{}] of a token id", i);
        res.worst_analytic = dx[i];
      }
  } else {
    const double eps_x = std::min(1e-2, step / 4);
    compare(h, h.x.data(), dx.data(), static_cast<int64_t>(h.x.size()), eps_x, "dx", options, rng,
            res);
  }
  for (size_t p = 0; p < h.ps.count(); ++p) {
    const ParamEntry& e = h.ps.entry(p);
    if (!e.flags.trainable) continue;  // a buffer (running statistics) has no gradient
    compare(h, h.ps.value(p), grads.data() + e.offset, e.size, 1e-2, e.name, options, rng, res);
  }
  res.ok = res.worst_ratio <= 1.0;
  return res;
}

}  // namespace sculpt::nn

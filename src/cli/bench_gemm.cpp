// The GEMM bound of an MLP training step: the three GEMMs of every Linear layer at the step's
// shapes, on kernels::gemm (the trainer's GEMM) and the same threads, timed alone.
#include "cli/bench_gemm.h"

#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/bench_infer.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "kernels/gemm.h"

namespace sculpt::cli {

namespace {

// One Linear layer's shapes and the buffers its GEMMs read and write.
struct GemmLayer {
  int64_t in = 0, out = 0;
  AlignedVector<float> w, dw, x, y, dy, dx;
};

AlignedVector<float> random_buffer(int64_t n, Rng& rng) {
  AlignedVector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = rng.uniform_float() - 0.5f;
  return v;
}

std::vector<GemmLayer> gemm_layers(const nn::ModelSpec& spec, int64_t batch) {
  nn::Model model = nn::Model::build(spec, Shape{1, 28, 28});
  ParamStore ps;
  model.declare(ps);
  ps.finalize();
  Rng rng(7);
  std::vector<GemmLayer> layers;
  for (size_t i = 0; i < model.size(); ++i) {
    if (model.layer(i).kind() != "linear") continue;
    const Shape& w = ps.entry(*model.layer(i).traits().weight).shape;  // [out, in]
    GemmLayer g;
    g.in = w[1];
    g.out = w[0];
    g.w = random_buffer(g.out * g.in, rng);
    g.dw = AlignedVector<float>(g.w.size(), 0.0f);
    g.x = random_buffer(batch * g.in, rng);
    g.y = AlignedVector<float>(size_t(batch * g.out), 0.0f);
    g.dy = random_buffer(batch * g.out, rng);
    g.dx = AlignedVector<float>(g.x.size(), 0.0f);
    layers.push_back(std::move(g));
  }
  return layers;
}

// The GEMMs of one step, in the trainer's order: every forward, then backward from the last
// layer (weights, then data, which the first layer does not need).
void step_gemms(std::vector<GemmLayer>& layers, int64_t n) {
  for (GemmLayer& g : layers)
    kernels::gemm(false, true, n, g.out, g.in, 1.0f, g.x.data(), g.in, g.w.data(), g.in, 1.0f,
                  g.y.data(), g.out);
  for (size_t l = layers.size(); l-- > 0;) {
    GemmLayer& g = layers[l];
    kernels::gemm(true, false, g.out, g.in, n, 1.0f, g.dy.data(), g.out, g.x.data(), g.in, 1.0f,
                  g.dw.data(), g.in);
    if (l > 0)
      kernels::gemm(false, false, n, g.in, g.out, 1.0f, g.dy.data(), g.out, g.w.data(), g.in, 0.0f,
                    g.dx.data(), g.in);
  }
}

}  // namespace

bool is_mlp_case(const std::string& name) {
  return name == "train-mlp" || name == "train-mlp-wide" || is_gemm_bound_case(name);
}

bool is_gemm_bound_case(const std::string& name) {
  return name == "gemm-bound-mlp" || name == "gemm-bound-mlp-wide";
}

nn::ModelSpec bench_mlp_spec(const std::string& name) {
  if (!name.ends_with("-wide")) return nn::builtin_model("mlp", 10);
  const auto L = [](std::string type, std::map<std::string, double> args = {}) {
    return nn::LayerSpec{std::move(type), "", std::move(args), {}};
  };
  return {{L("flatten"), L("linear", {{"out", 4096}}), L("relu"), L("linear", {{"out", 4096}}),
           L("relu"), L("linear", {{"out", 10}})}};
}

int run_gemm_bound(const GemmBoundArgs& a) {
  using Clock = std::chrono::steady_clock;
  SCULPT_CHECK(a.batch >= 1 && a.batch <= 65536, ConfigError,
               fmt::format("--batch must be in [1, 65536], got {}", a.batch), "--batch");
  set_threads(a.threads, "--threads");
  std::vector<GemmLayer> layers = gemm_layers(bench_mlp_spec(a.name), a.batch);
  double flops = 0.0;  // per step: 2 per multiply-add, three GEMMs a layer (two for the first)
  for (size_t l = 0; l < layers.size(); ++l)
    flops += 2.0 * double(a.batch * layers[l].in * layers[l].out) * (l > 0 ? 3.0 : 2.0);
  step_gemms(layers, a.batch);  // warm-up: oneDNN's kernel selection, first touch
  std::vector<double> rates;
  for (int r = 0; r < a.reps; ++r) {
    int64_t steps = 0;
    const auto t0 = Clock::now();
    double s = 0.0;
    do {
      step_gemms(layers, a.batch);
      ++steps;
      s = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (s < 0.5);
    rates.push_back(double(steps * a.batch) / s);
  }
  const double rate = median_of(rates);
  const double gflops = rate / double(a.batch) * flops * 1e-9;
  if (a.json) {
    nlohmann::json j{{"case", a.name},        {"unit", "samples/s"},
                     {"samples_per_s", rate}, {"reps", rates},
                     {"batch", a.batch},      {"threads", num_threads()},
                     {"gflops", gflops},      {"flops_per_sample", flops / double(a.batch)}};
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print(
        "{}: {:.0f} samples/s at batch {} ({:.1f} GFLOP/s of GEMMs; median of {} runs of "
        "0.5 s, {} threads)\n",
        a.name, rate, a.batch, gflops, a.reps, num_threads());
  }
  return 0;
}

}  // namespace sculpt::cli

// `sculpt info`: the CPU's features, the instruction-set level in force (SCULPT_ISA), and the
// variant each kernel family takes at that level, so a user can see what a run will use.
#include <fmt/format.h>

#include <cstdlib>
#include <string>

#include "cli/commands.h"
#include "cli/verb.h"
#include "core/cpu.h"
#include "core/parallel.h"
#include "kernels/conv_direct.h"  // DirectConv::available
#include "kernels/gemm.h"
#include "kernels/transpose.h"
#include "sparse/csr.h"

namespace sculpt::cli {

namespace {

struct InfoArgs {};

void print_info() {
  const CpuFeatures& f = cpu_features();
  const char* env = std::getenv("SCULPT_ISA");
  fmt::print("cpu: {}\n", f.model.empty() ? "unknown" : f.model);
  fmt::print("features: {}\n", f.names().empty() ? "none beyond the baseline" : f.names());
  fmt::print("level: {} (this CPU: up to {}; SCULPT_ISA {})\n", isa_name(isa()),
             isa_name(detected_isa()), env && *env ? fmt::format("= {}", env) : "unset");
  fmt::print("threads: {} (OpenMP)\n", num_threads());
#if defined(SCULPT_BUILT_NATIVE)
  fmt::print("build: -march=native (loops the compiler vectorises use the build machine's set)\n");
#else
  fmt::print("build: portable (loops the compiler vectorises use the baseline set)\n");
#endif
  fmt::print("kernel families:\n");
  const auto row = [](const char* family, const std::string& variant) {
    fmt::print("  {:<22} {}\n", family, variant);
  };
  row("gemm (training)", fmt::format("oneDNN sgemm, {}", kernels::onednn_isa()));
  row("convolution",
      fmt::format("oneDNN {} (8+ input channels); direct {} (fewer); im2col", kernels::onednn_isa(),
                  kernels::DirectConv::available() ? "avx512" : "unavailable"));
  row("gemv (batch 1)", kernels::gemv_variant().name);
  row("sparse", sparse::kernel_isa());
  row("transpose", kernels::transpose_isa());
}

}  // namespace

void add_info(CLI::App& app) {
  add_verb<InfoArgs>(app, "info",
                     "Print the CPU's features and the kernel variants this machine runs",
                     [](InfoArgs&) { print_info(); });
}

}  // namespace sculpt::cli

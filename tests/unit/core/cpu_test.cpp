// core/cpu: the features read from CPUID agree with the kernel's /proc/cpuinfo flags, levels
// parse and refuse what the CPU lacks, and lowering the level moves every kernel family that
// chooses a variant at run time.
#include "core/cpu.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "core/error.h"
#include "kernels/conv_direct.h"
#include "kernels/gemm.h"
#include "kernels/transpose.h"
#include "sparse/csr.h"

namespace sculpt {
namespace {

std::set<std::string> proc_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> out;
    for (std::string w; words >> w;) out.insert(w);
    return out;
  }
  return {};
}

TEST(Cpu, FeaturesAgreeWithTheKernelsFlags) {
  const std::set<std::string> flags = proc_flags();
  if (flags.empty()) GTEST_SKIP() << "no flags line in /proc/cpuinfo (not Linux on x86)";
  const CpuFeatures& f = cpu_features();
  const std::pair<bool, const char*> all[] = {{f.avx2, "avx2"},
                                              {f.fma, "fma"},
                                              {f.avx512f, "avx512f"},
                                              {f.avx512bw, "avx512bw"},
                                              {f.avx512vl, "avx512vl"},
                                              {f.avx512dq, "avx512dq"},
                                              {f.avx512_vnni, "avx512_vnni"},
                                              {f.avx512_bf16, "avx512_bf16"},
                                              {f.avx512_fp16, "avx512_fp16"},
                                              {f.amx_tile, "amx_tile"},
                                              {f.amx_bf16, "amx_bf16"},
                                              {f.amx_int8, "amx_int8"}};
  for (const auto& [ours, name] : all) EXPECT_EQ(ours, flags.count(name) == 1) << name;
  EXPECT_NE(f.model, "");
}

TEST(Cpu, LevelsParseAndRefuseWhatTheCpuLacks) {
  EXPECT_EQ(parse_isa("scalar", "test"), Isa::kScalar);
  EXPECT_EQ(parse_isa(isa_name(detected_isa()), "test"), detected_isa());
  try {
    parse_isa("avx1024", "SCULPT_ISA");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown instruction-set level 'avx1024'"),
              std::string::npos)
        << e.what();
    EXPECT_EQ(e.where(), "SCULPT_ISA");
  }
  if (detected_isa() < Isa::kAvx512) {
    EXPECT_THROW(parse_isa("avx512", "SCULPT_ISA"), ConfigError);
    EXPECT_THROW(set_isa(Isa::kAvx512), ConfigError);
  }
}

TEST(Cpu, LoweringTheLevelMovesEveryKernelFamily) {
  if (detected_isa() < Isa::kAvx512) GTEST_SKIP() << "this CPU has no AVX-512 to lower from";
  const Isa before = isa();
  set_isa(Isa::kAvx2);
  EXPECT_EQ(isa(), Isa::kAvx2);
  EXPECT_FALSE(use_avx512());
  EXPECT_STREQ(kernels::gemv_variant().name, "avx2");
  EXPECT_STREQ(sparse::kernel_isa(), "avx2");
  EXPECT_STREQ(kernels::transpose_isa(), "portable");
  EXPECT_FALSE(kernels::DirectConv::available());
  set_isa(Isa::kScalar);
  EXPECT_STREQ(kernels::gemv_variant().name, "scalar");
  EXPECT_STREQ(sparse::kernel_isa(), "scalar");
  set_isa(std::nullopt);
  EXPECT_EQ(isa(), before);
  if (before == Isa::kAvx512) {
    EXPECT_STREQ(kernels::gemv_variant().name, "avx512");
    EXPECT_STREQ(sparse::kernel_isa(), "avx512");
    EXPECT_TRUE(kernels::DirectConv::available());
  }
}

}  // namespace
}  // namespace sculpt

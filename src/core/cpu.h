// What this CPU can run, read once from CPUID, and the instruction-set level every kernel family
// chooses its variant by. SCULPT_ISA=scalar|avx2|avx512 in the environment lowers the level for
// the whole process (a level the CPU lacks is a clear ConfigError, never an illegal
// instruction); set_isa() does the same for tests. Families: docs/architecture.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sculpt {

// Ordered by capability: a level runs wherever a higher one does.
enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

struct CpuFeatures {
  std::string model;  // /proc/cpuinfo's "model name" ("" when unknown)
  bool avx2 = false, fma = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512_vnni = false, avx512_bf16 = false, avx512_fp16 = false;
  bool amx_tile = false, amx_bf16 = false, amx_int8 = false;
  // The names of the features present, in the order above ("avx2 fma avx512f ...").
  std::string names() const;
};

// Read once; the OS must save the wider registers too (XCR0), as __builtin_cpu_supports checks.
const CpuFeatures& cpu_features();

std::string_view isa_name(Isa isa);
// "scalar", "avx2" or "avx512" -> the level; ConfigError naming `where` for anything else, or
// for a level this CPU cannot run (with the best it can).
Isa parse_isa(std::string_view name, std::string_view where);
// The best level this CPU runs: avx512 needs F, BW, DQ and VL; avx2 needs FMA too.
Isa detected_isa();
// The level kernels use: detected_isa(), lowered by SCULPT_ISA (read at the first call; a bad
// value throws ConfigError from here, and `sculpt` reports it before any work) or set_isa().
Isa isa();
// Forces a level (nullopt: back to SCULPT_ISA or the detected one). Throws as parse_isa does.
void set_isa(std::optional<Isa> level);
// Whether kernels may use AVX-512 (and, separately, AVX2 + FMA) instructions now.
inline bool use_avx512() { return isa() >= Isa::kAvx512; }
inline bool use_avx2() { return isa() >= Isa::kAvx2; }

}  // namespace sculpt

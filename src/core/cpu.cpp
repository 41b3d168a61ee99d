// CPUID and XCR0 into CpuFeatures; the process-wide instruction-set level (see cpu.h).
#include "core/cpu.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <utility>

#include "core/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define SCULPT_CPU_X86 1
#else
#define SCULPT_CPU_X86 0
#endif

namespace sculpt {

namespace {

std::string model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  for (int i = 0; i < 64 && std::getline(in, line); ++i) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    return colon == std::string::npos ? "" : line.substr(line.find_first_not_of(" \t", colon + 1));
  }
  return "";
}

#if SCULPT_CPU_X86
bool bit(unsigned reg, int b) { return ((reg >> b) & 1u) != 0; }

uint64_t xcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t{hi} << 32) | lo;
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
  f.model = model_name();
#if SCULPT_CPU_X86
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = bit(c, 27), fma = bit(c, 12);
  const uint64_t xcr = osxsave ? xcr0() : 0;
  const bool ymm = (xcr & 0x6) == 0x6, zmm = ymm && (xcr & 0xe0) == 0xe0;
  const bool tiles = (xcr & 0x60000) == 0x60000;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx2 = ymm && bit(b, 5);
  f.fma = ymm && fma;
  f.avx512f = zmm && bit(b, 16);
  f.avx512dq = zmm && bit(b, 17);
  f.avx512bw = zmm && bit(b, 30);
  f.avx512vl = zmm && bit(b, 31);
  f.avx512_vnni = zmm && bit(c, 11);
  f.avx512_fp16 = zmm && bit(d, 23);
  f.amx_bf16 = tiles && bit(d, 22);
  f.amx_tile = tiles && bit(d, 24);
  f.amx_int8 = tiles && bit(d, 25);
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f.avx512_bf16 = zmm && bit(a, 5);
#endif
  return f;
}

// -1: no override (SCULPT_ISA or the detected level); else an Isa.
std::atomic<int> g_forced{-1};

Isa from_environment() {
  const char* v = std::getenv("SCULPT_ISA");
  return v && *v ? parse_isa(v, "SCULPT_ISA") : detected_isa();
}

}  // namespace

std::string CpuFeatures::names() const {
  std::string out;
  const std::pair<bool, const char*> all[] = {{avx2, "avx2"},
                                              {fma, "fma"},
                                              {avx512f, "avx512f"},
                                              {avx512bw, "avx512bw"},
                                              {avx512vl, "avx512vl"},
                                              {avx512dq, "avx512dq"},
                                              {avx512_vnni, "avx512_vnni"},
                                              {avx512_bf16, "avx512_bf16"},
                                              {avx512_fp16, "avx512_fp16"},
                                              {amx_tile, "amx_tile"},
                                              {amx_bf16, "amx_bf16"},
                                              {amx_int8, "amx_int8"}};
  for (const auto& [on, name] : all) {
    if (!on) continue;
    if (!out.empty()) out += ' ';
    out += name;
  }
  return out;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kScalar:
      break;
  }
  return "scalar";
}

Isa detected_isa() {
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl && f.fma) return Isa::kAvx512;
  if (f.avx2 && f.fma) return Isa::kAvx2;
  return Isa::kScalar;
}

Isa parse_isa(std::string_view name, std::string_view where) {
  Isa want = Isa::kScalar;
  if (name == "avx512") {
    want = Isa::kAvx512;
  } else if (name == "avx2") {
    want = Isa::kAvx2;
  } else if (name != "scalar") {
    throw ConfigError(fmt::format("unknown instruction-set level '{}'", name), std::string(where),
                      "use scalar, avx2 or avx512 (or leave it unset for the best this CPU has)");
  }
  SCULPT_CHECK(want <= detected_isa(), ConfigError,
               fmt::format("this CPU cannot run the {} kernels (it has up to {}: {})", name,
                           isa_name(detected_isa()), cpu_features().names()),
               std::string(where), "choose a lower level, or unset it");
  return want;
}

Isa isa() {
  const int forced = g_forced.load(std::memory_order_relaxed);
  if (forced >= 0) return static_cast<Isa>(forced);
  static const Isa level = from_environment();
  return level;
}

void set_isa(std::optional<Isa> level) {
  if (level) parse_isa(isa_name(*level), "set_isa");
  g_forced.store(level ? static_cast<int>(*level) : -1);
}

}  // namespace sculpt

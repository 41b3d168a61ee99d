// gemm_bf16 on oneDNN's matmul primitive, one cached primitive per shape (see gemm_bf16.h).
#include "kernels/gemm_bf16.h"

#include <cstring>
#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <tuple>
#include <vector>

#include "core/parallel.h"
#include "kernels/gemm.h"

namespace sculpt::kernels {

namespace {

using dnnl::memory;

struct Shape {
  bool trans_a, trans_b, accumulate;
  int64_t M, N, K, lda, ldb, ldc;
  bool operator<(const Shape& o) const {
    return std::tie(trans_a, trans_b, accumulate, M, N, K, lda, ldb, ldc) <
           std::tie(o.trans_a, o.trans_b, o.accumulate, o.M, o.N, o.K, o.lda, o.ldb, o.ldc);
  }
};

// A shape's primitive, or none where oneDNN has no bf16 matmul at this instruction-set level
// (below AVX-512): then the operands are widened to fp32 (exactly: a bf16 value is a float) and
// multiplied by kernels::gemm, the same products accumulated in fp32.
struct Product {
  std::optional<dnnl::matmul> prim;
  memory a, b, c;
  std::string implementation;
};

struct Cache {
  std::mutex mutex;
  dnnl::engine eng;
  dnnl::stream st;
  std::map<Shape, Product> products;
  Cache() : eng((apply_isa_to_onednn(), dnnl::engine::kind::cpu), 0), st(eng) {}
};

Cache& cache() {
  static Cache c;
  return c;
}

memory::desc plain(int64_t rows, int64_t cols, int64_t ld, bool transposed, memory::data_type t) {
  // Stored [rows, cols] with row stride ld, or its transpose [cols, rows] with row stride ld.
  return memory::desc({rows, cols}, t, transposed ? memory::dims{1, ld} : memory::dims{ld, 1});
}

Product make(Cache& c, const Shape& s) {
  const auto bf = memory::data_type::bf16, f32 = memory::data_type::f32;
  const memory::desc a = plain(s.M, s.K, s.lda, s.trans_a, bf);
  const memory::desc b = plain(s.K, s.N, s.ldb, s.trans_b, bf);
  const memory::desc out = plain(s.M, s.N, s.ldc, false, f32);
  dnnl::primitive_attr attr;
  if (s.accumulate) {
    dnnl::post_ops sum;
    sum.append_sum(1.0f);
    attr.set_post_ops(sum);
  }
  Product p;
  try {
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, out), attr, c.eng);
    p.prim = dnnl::matmul(pd);
    p.implementation = std::string("oneDNN ") + pd.impl_info_str();
  } catch (const dnnl::error&) {
    p.implementation = "widened to fp32 for sgemm (oneDNN has no bf16 matmul at this level)";
    return p;
  }
  p.a = memory(a, c.eng, DNNL_MEMORY_NONE);
  p.b = memory(b, c.eng, DNNL_MEMORY_NONE);
  p.c = memory(out, c.eng, DNNL_MEMORY_NONE);
  return p;
}

Product& product(Cache& c, const Shape& s) {
  auto it = c.products.find(s);
  if (it == c.products.end()) it = c.products.emplace(s, make(c, s)).first;
  return it->second;
}

uint16_t round_bits(uint32_t bits) {
  const bool nan = (bits & 0x7fffffffu) > 0x7f800000u;
  const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  return static_cast<uint16_t>(nan ? (bits >> 16) | 0x40u : rounded);
}

// The stored [rows, cols] with row stride ld, widened to fp32: (rows - 1) ld + cols values.
void widen(const bf16* x, int64_t rows, int64_t cols, int64_t ld, std::vector<float>& out) {
  out.resize(static_cast<size_t>(rows > 0 ? (rows - 1) * ld + cols : 0));
  float* o = out.data();
  for_range(static_cast<int64_t>(out.size()), [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i] = from_bf16(x[i]);
  });
}

void widened_product(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const bf16* A,
                     int64_t lda, const bf16* B, int64_t ldb, bool accumulate, float* C,
                     int64_t ldc) {
  static std::vector<float> a, b;  // under the cache's lock; grown once to the largest shape
  // A is stored [M, K] ([K, M] when trans_a); B [K, N] ([N, K] when trans_b).
  widen(A, trans_a ? K : M, trans_a ? M : K, lda, a);
  widen(B, trans_b ? N : K, trans_b ? K : N, ldb, b);
  gemm(trans_a, trans_b, M, N, K, 1.0f, a.data(), lda, b.data(), ldb, accumulate ? 1.0f : 0.0f, C,
       ldc);
}

}  // namespace

bf16 to_bf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return round_bits(bits);
}

void to_bf16(const float* x, int64_t n, bf16* y) {
  for_range(n, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      uint32_t bits;
      std::memcpy(&bits, x + i, sizeof bits);
      y[i] = round_bits(bits);
    }
  });
}

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const bf16* A,
               int64_t lda, const bf16* B, int64_t ldb, bool accumulate, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  Cache& c = cache();
  const std::lock_guard<std::mutex> lock(c.mutex);
  Product& p = product(c, {trans_a, trans_b, accumulate, M, N, K, lda, ldb, ldc});
  if (!p.prim) {
    widened_product(trans_a, trans_b, M, N, K, A, lda, B, ldb, accumulate, C, ldc);
    return;
  }
  p.a.set_data_handle(const_cast<bf16*>(A));
  p.b.set_data_handle(const_cast<bf16*>(B));
  p.c.set_data_handle(C);
  p.prim->execute(c.st, {{DNNL_ARG_SRC, p.a}, {DNNL_ARG_WEIGHTS, p.b}, {DNNL_ARG_DST, p.c}});
  c.st.wait();
}

std::string gemm_bf16_implementation(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                                     int64_t lda, int64_t ldb, int64_t ldc) {
  Cache& c = cache();
  const std::lock_guard<std::mutex> lock(c.mutex);
  return product(c, {trans_a, trans_b, false, M, N, K, lda, ldb, ldc}).implementation;
}

void gemm_bf16_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const bf16* A,
                         int64_t lda, const bf16* B, int64_t ldb, bool accumulate, float* C,
                         int64_t ldc) {
  std::vector<float> a, b;
  widen(A, trans_a ? K : M, trans_a ? M : K, lda, a);
  widen(B, trans_b ? N : K, trans_b ? K : N, ldb, b);
  gemm_reference(trans_a, trans_b, M, N, K, 1.0f, a.data(), lda, b.data(), ldb,
                 accumulate ? 1.0f : 0.0f, C, ldc);
}

}  // namespace sculpt::kernels

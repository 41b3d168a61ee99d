// gemm_bf16 on oneDNN's matmul primitive, one cached primitive per shape (see gemm_bf16.h).
#include "kernels/gemm_bf16.h"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>
#include <vector>

#include "core/error.h"
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

struct Product {
  dnnl::matmul prim;
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
    p.implementation = pd.impl_info_str();
  } catch (const dnnl::error& e) {
    throw Error(
        fmt::format("oneDNN has no bf16 matmul for M={} N={} K={} ({})", s.M, s.N, s.K, e.what()),
        "kernels::gemm_bf16", "run with train.precision = \"fp32\"");
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
  p.a.set_data_handle(const_cast<bf16*>(A));
  p.b.set_data_handle(const_cast<bf16*>(B));
  p.c.set_data_handle(C);
  p.prim.execute(c.st, {{DNNL_ARG_SRC, p.a}, {DNNL_ARG_WEIGHTS, p.b}, {DNNL_ARG_DST, p.c}});
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
  // The stored [rows, cols] with row stride ld, widened: (rows - 1) ld + cols values.
  const auto widen = [](const bf16* x, int64_t rows, int64_t cols, int64_t ld) {
    std::vector<float> out(static_cast<size_t>(rows > 0 ? (rows - 1) * ld + cols : 0));
    for (size_t i = 0; i < out.size(); ++i) out[i] = from_bf16(x[i]);
    return out;
  };
  // A is stored [M, K] ([K, M] when trans_a); B [K, N] ([N, K] when trans_b).
  const std::vector<float> a = trans_a ? widen(A, K, M, lda) : widen(A, M, K, lda);
  const std::vector<float> b = trans_b ? widen(B, N, K, ldb) : widen(B, K, N, ldb);
  gemm_reference(trans_a, trans_b, M, N, K, 1.0f, a.data(), lda, b.data(), ldb,
                 accumulate ? 1.0f : 0.0f, C, ldc);
}

}  // namespace sculpt::kernels

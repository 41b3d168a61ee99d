// A batch-1 layout for AVX-512: rows in groups of 16 (one per vector lane), each group a list
// of "slots". A slot holds at most one nonzero of each of the group's rows, all of them inside
// one 32-column window of x, so the 16 inputs it needs come from two vector loads and one
// two-register permute (vpermi2ps) instead of 16 scalar loads. CSR's spmv assembles x element
// by element (~0.7 cycles per nonzero on Zen 5); a slot costs about two cycles and carries ~9
// nonzeros at 5% density, about 3x less work per nonzero.
//
// Built from a Csr once, at load time (inference only keeps it next to the Csr, which the
// batched spmm uses). Windows start at multiples of 16 columns where possible, so that with a
// 64-byte aligned x their loads touch two cache lines.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "sparse/csr.h"

namespace sculpt::sparse {

struct Windowed {
  static constexpr int64_t kLanes = 16;   // rows per group
  static constexpr int64_t kWindow = 32;  // columns a slot can reach

  int64_t rows = 0, cols = 0, nnz = 0;
  std::vector<uint32_t> group_slots;  // ceil(rows / 16) + 1 offsets into the slots
  std::vector<uint32_t> base;         // per slot: the first column of its window
  std::vector<uint8_t> lane_col;      // 16 per slot: column - base (0..31), 0 in unused lanes
  AlignedVector<float> values;        // 16 per slot: the value, exactly 0 in unused lanes
  int64_t groups() const { return static_cast<int64_t>(group_slots.size()) - 1; }
  int64_t slots() const { return static_cast<int64_t>(base.size()); }
};

// Every stored entry of `a` (which must be valid) lands in exactly one slot lane. Greedy per
// group: each slot's window starts at the smallest column still waiting in any of the rows
// (rounded down to a multiple of 16, and at most cols - 32), and takes the next entry of every
// row that falls inside it. Windows never reach past max(cols, 32).
Windowed windowed_from_csr(const Csr& a);

// y[r] = act(bias[r] + sum_k A[r,k] * x[k]), as sparse::spmv; bias may be nullptr. Per row,
// slot j of its group goes to partial sum j % 4, and the four are added as (s0 + s1) + (s2 + s3)
// before the bias, so every instruction set gives the same bits. Unused lanes are masked, so a
// non-finite x[k] only reaches the rows that have a nonzero at k. AVX-512 when the CPU has it
// (and force_kernel_isa allows), portable code otherwise; no allocation; forks OpenMP threads
// only for matrices far larger than a batch-1 MLP layer.
void spmv(const Windowed& a, const float* x, const float* bias, float* y, Act act);

// Whether spmv(Windowed) runs vectorised here, i.e. whether it beats spmv(Csr).
bool windowed_is_fast();

}  // namespace sculpt::sparse

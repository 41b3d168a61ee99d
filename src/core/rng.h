// Seeded random numbers. Rng is xoshiro256++ seeded through splitmix64: the same seed gives the
// same bits on every machine (no std:: distributions, whose output is implementation-defined).
// For work split across threads use counter_uniform(key, i): a stateless hash of (key, i), so
// the result does not depend on how many threads share the loop.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <span>

namespace sculpt {

inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Stateless: a uniform float in [0, 1) from a key and a counter.
inline float counter_uniform(uint64_t key, uint64_t i) {
  uint64_t x = key ^ (i * 0xD1B54A32D192ED03ull);
  return static_cast<float>(splitmix64(x) >> 40) * 0x1.0p-24f;
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed);

  uint64_t next_u64();
  // Uniform in [0, 1) with 53 (double) or 24 (float) random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  float uniform_float() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Unbiased integer in [0, n) (Lemire's method). Requires n > 0.
  uint64_t below(uint64_t n);
  // Standard normal (Box-Muller; caches nothing so the state is just the four words).
  double normal();
  // Fisher-Yates shuffle of indices.
  void shuffle(std::span<int64_t> v);
  // Derives an independent stream (e.g. one for data order, one for dropout).
  Rng split(uint64_t stream);

  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  std::array<uint64_t, 4> s_{};
};

}  // namespace sculpt

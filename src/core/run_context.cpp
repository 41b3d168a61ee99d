// RunContext construction: independent streams derived from one seed.
#include "core/run_context.h"

#include "core/parallel.h"

namespace sculpt {

RunContext RunContext::make(uint64_t seed, int64_t threads) {
  RunContext ctx;
  ctx.seed = seed;
  ctx.threads = set_threads(threads, "train.threads");
  Rng root(seed);
  ctx.init_rng = root.split(1);
  ctx.data_rng = root.split(2);
  ctx.dropout_rng = root.split(3);
  return ctx;
}

}  // namespace sculpt

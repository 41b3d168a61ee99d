// Channel pruning of a conv net, select() through surgery: whole filters go with their bias and
// the next layer's input columns (kh*kw per channel into a conv, H*W per channel into a Linear
// after Flatten), and the model surgery builds computes what the masked model computes.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "core/rng.h"
#include "io/checkpoint.h"
#include "prune/criterion.h"
#include "prune/select.h"
#include "prune/surgery.h"
#include "unit/prune/prune_test_net.h"

namespace sculpt::prune {
namespace {

using test_net::L;

// conv1 6 -> pool -> conv2 8 (no padding) -> flatten -> fc1 10 -> fc2 3, on [1, 12, 12].
nn::ModelSpec spec() {
  return {{L("conv2d", {{"out", 6}, {"kernel", 3}}), L("relu"), L("maxpool2d", {{"kernel", 2}}),
           L("conv2d", {{"out", 8}, {"kernel", 3}}), L("relu"), L("flatten"),
           L("linear", {{"out", 10}}), L("relu"), L("linear", {{"out", 3}})}};
}
const Shape kInput{1, 12, 12};

std::vector<float> forward(nn::Model& m, ParamStore& ps, const std::vector<float>& x, int64_t n) {
  m.reserve(n);
  const float* y = m.forward(ps, x.data(), n, nn::Pass{});
  return {y, y + n * m.outputs()};
}

TEST(PruneChannels, FiltersGoWithTheirColumnsAndSurgeryKeepsTheOutputs) {
  nn::Model model = nn::Model::build(spec(), kInput);
  ParamStore ps;
  model.declare(ps);
  ps.finalize();
  Rng rng(3);
  model.init(ps, rng);
  for (size_t i = 0; i < ps.count(); ++i)  // non-zero biases, so a wrong bias slice shows
    if (ps.entry(i).name.ends_with(".bias"))
      for (int64_t j = 0; j < ps.entry(i).size; ++j) ps.value(i)[j] = float(rng.uniform(-0.3, 0.3));
  const Structure st = prunable_structure(model, ps);
  const std::vector<PrunableLayer>& layers = st.layers;
  ASSERT_EQ(layers.size(), 4u);
  const auto spatial = [&](size_t l) { return st.groups[layers[l].group].readers.at(0).spatial; };
  EXPECT_EQ(spatial(0), 9);  // conv1 -> conv2: 3x3 columns per channel
  EXPECT_EQ(spatial(1), 9);  // conv2 [8, 3, 3] -> flatten -> fc1: 3*3 per channel
  EXPECT_EQ(spatial(2), 1);

  PruneConfig cfg;
  cfg.granularity = prune::Granularity::kChannel;
  cfg.scope = prune::Scope::kLayer;
  Masks masks;
  masks.init(ps);
  AlignedVector<float> scores(size_t(ps.arena_size()));
  make_criterion("magnitude")->score(ps, {}, scores);
  select(st, ps, scores, cfg, 0.5, masks);

  const float* keep = masks.keep_data();
  const std::vector<LayerStats> stats = layer_stats(layers, ps, masks);
  EXPECT_EQ(stats[0].dead_units, 3);
  EXPECT_EQ(stats[1].dead_units, 4);
  EXPECT_EQ(stats[2].dead_units, 5);
  EXPECT_EQ(stats[3].dead_units, 0) << "the outputs are never removed";
  // Every dead filter of conv2 takes its bias and fc1's 9 columns with it, and only those.
  const PrunableLayer& c2 = layers[1];
  const PrunableLayer& f1 = layers[2];
  for (int64_t u = 0; u < c2.units; ++u) {
    const float* row = keep + ps.entry(c2.weight).offset + u * c2.fan_in;
    const bool dead = std::all_of(row, row + c2.fan_in, [](float k) { return k == 0.0f; });
    EXPECT_EQ(keep[ps.entry(*c2.bias).offset + u], dead ? 0.0f : 1.0f) << u;
    for (int64_t r = 0; r < f1.units; ++r) {
      if (keep[ps.entry(*f1.bias).offset + r] == 0.0f) continue;  // fc1's own dead rows
      for (int64_t k = 0; k < 9; ++k)
        EXPECT_EQ(keep[ps.entry(f1.weight).offset + r * f1.fan_in + u * 9 + k], dead ? 0.0f : 1.0f)
            << "fc1 row " << r << " column " << u * 9 + k;
    }
  }

  io::Checkpoint ck;
  for (const ParamEntry& e : ps.entries()) {
    const float* w = ps.values().data() + e.offset;
    ck.tensors[e.name] = {e.shape, std::vector<float>(w, w + e.size)};
    ck.tensors["mask." + e.name] = {e.shape,
                                    std::vector<float>(keep + e.offset, keep + e.offset + e.size)};
  }
  const SurgeryResult cut = remove_dead_units(spec(), kInput, ck);
  ASSERT_EQ(cut.changes.size(), 3u);
  EXPECT_EQ(cut.changes[0].after, 3);
  EXPECT_EQ(cut.changes[1].after, 4);
  EXPECT_EQ(cut.changes[2].after, 5);
  nn::Model small = nn::Model::build(cut.spec, kInput);
  ParamStore small_ps;
  small.declare(small_ps);
  small_ps.finalize();
  io::restore_params(small_ps, cut.checkpoint);
  EXPECT_LT(small_ps.num_params(), ps.num_params());

  const int64_t n = 4;
  std::vector<float> x(size_t(n * numel(kInput)));
  for (float& v : x) v = float(rng.uniform(-1.0, 1.0));
  const std::vector<float> want = forward(model, ps, x, n);
  const std::vector<float> got = forward(small, small_ps, x, n);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
}

}  // namespace
}  // namespace sculpt::prune

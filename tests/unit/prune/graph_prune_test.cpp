// Channel pruning through a model graph: the channel groups of a residual block, BatchNorm and
// concat (prunable_structure), selection masking whole groups (select), and surgery that keeps
// the outputs of the masked model, per structure: conv -> BN -> relu, a residual block, a
// concat of two convolutions, and a concat of flattened maps read by a Linear.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/masks.h"
#include "core/rng.h"
#include "io/checkpoint.h"
#include "nn/model.h"
#include "prune/criterion.h"
#include "prune/select.h"
#include "prune/structure.h"
#include "prune/surgery.h"
#include "unit/prune/prune_test_net.h"

// A named namespace: the unit tests are compiled in batches, where another file's anonymous
// namespace has its own Net and kInput.
namespace sculpt::prune::graph_test {

nn::LayerSpec L(std::string type, std::string name, std::map<std::string, double> args = {},
                std::vector<std::string> inputs = {}) {
  return {std::move(type), std::move(name), std::move(args), std::move(inputs)};
}
std::map<std::string, double> conv(double out, double kernel, double pad = 0) {
  return {{"out", out}, {"kernel", kernel}, {"padding", pad}};
}

// conv1 -> bn1 -> relu -> conv2 -> bn2 -> relu -> flatten -> fc.
nn::ModelSpec conv_bn_spec() {
  return {{L("conv2d", "conv1", conv(6, 3, 1)), L("batchnorm2d", "bn1"), L("relu", "r1"),
           L("conv2d", "conv2", conv(5, 3)), L("batchnorm2d", "bn2"), L("relu", "r2"),
           L("flatten", "flat"), L("linear", "fc", {{"out", 3}})}};
}

// A pre-activation residual block after a stem, with the add's output normalised again.
nn::ModelSpec residual_spec() {
  return {{L("conv2d", "stem", conv(8, 3, 1)), L("batchnorm2d", "bn1"), L("relu", "r1"),
           L("conv2d", "conv1", conv(8, 3, 1)), L("batchnorm2d", "bn2"), L("relu", "r2"),
           L("conv2d", "conv2", conv(8, 3, 1)), L("add", "add", {}, {"stem", "conv2"}),
           L("batchnorm2d", "bn3"), L("relu", "r3"), L("globalavgpool", "pool"),
           L("linear", "fc", {{"out", 3}})}};
}

// Two convolutions of the input, concatenated, read by a third.
nn::ModelSpec concat_spec() {
  return {{L("conv2d", "a", conv(6, 3, 1)), L("conv2d", "b", conv(4, 3, 1), {"input"}),
           L("concat", "cat", {}, {"a", "b"}), L("relu", "r"), L("conv2d", "c", conv(5, 3)),
           L("flatten", "flat"), L("linear", "fc", {{"out", 3}})}};
}

// Two flattened convolutions concatenated and read by a Linear: a channel spans H * W columns.
nn::ModelSpec flat_concat_spec() {
  return {{L("conv2d", "a", conv(6, 3)), L("relu", "ra"), L("flatten", "fa"),
           L("conv2d", "b", conv(4, 3), {"input"}), L("flatten", "fb"),
           L("concat", "cat", {}, {"fa", "fb"}), L("linear", "fc1", {{"out", 7}}), L("relu", "r"),
           L("linear", "fc2", {{"out", 3}})}};
}

const Shape kInput{2, 6, 6};

struct Net {
  nn::Model model;
  ParamStore ps;
};

// Random weights, biases, BatchNorm scales, shifts and running statistics, so that a channel
// sliced from the wrong place shows in the outputs.
Net build(const nn::ModelSpec& spec, uint64_t seed = 5) {
  Net n{nn::Model::build(spec, kInput), {}};
  n.model.declare(n.ps);
  n.ps.finalize();
  Rng rng(seed);
  n.model.init(n.ps, rng);
  for (size_t i = 0; i < n.ps.count(); ++i) {
    const std::string& name = n.ps.entry(i).name;
    const bool bn = name.starts_with("bn");
    double lo = -0.5, hi = 0.5;
    if (name.ends_with(".running_var") || (bn && name.ends_with(".weight"))) lo = 0.5, hi = 1.5;
    if (!bn && name.ends_with(".weight")) continue;
    for (float& v : n.ps.value_span(i)) v = static_cast<float>(rng.uniform(lo, hi));
  }
  return n;
}

const PrunableLayer& layer(const Structure& s, const std::string& name) {
  for (const PrunableLayer& p : s.layers)
    if (p.name == name) return p;
  throw std::runtime_error("no layer " + name);
}

// Channel pruning to `sparsity` (magnitude, one ranking per group), masks applied.
Masks prune_channels(Net& n, const Structure& s, double sparsity) {
  PruneConfig cfg;
  cfg.granularity = Granularity::kChannel;
  cfg.scope = Scope::kLayer;
  Masks masks;
  masks.init(n.ps);
  AlignedVector<float> scores(size_t(n.ps.arena_size()));
  make_criterion("magnitude")->score(n.ps, {}, scores);
  select(s, n.ps, scores, cfg, sparsity, masks);
  return masks;
}

std::vector<float> eval(Net& n, const std::vector<float>& x, int64_t batch) {
  n.model.reserve(batch);
  const float* y = n.model.forward(n.ps, x.data(), batch, nn::Pass{});
  return {y, y + batch * n.model.outputs()};
}

// Surgery on the masked net; the smaller model must compute the same outputs in evaluation.
SurgeryResult expect_surgery_keeps_outputs(Net& masked, const nn::ModelSpec& spec,
                                           const Masks& masks) {
  SurgeryResult r = remove_dead_units(spec, kInput, test_net::masked_checkpoint(masked.ps, masks));
  Net small{nn::Model::build(r.spec, kInput), {}};
  small.model.declare(small.ps);
  small.ps.finalize();
  io::Checkpoint params;
  for (const auto& [name, t] : r.checkpoint.tensors)
    if (!name.starts_with("mask.")) params.tensors[name] = t;
  io::restore_params(small.ps, params);
  EXPECT_LT(small.ps.num_params(), masked.ps.num_params());
  Rng rng(9);
  std::vector<float> x(size_t(4 * numel(kInput)));
  for (float& v : x) v = static_cast<float>(rng.uniform(-1.0, 1.0));
  const std::vector<float> a = eval(masked, x, 4), b = eval(small, x, 4);
  EXPECT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    EXPECT_NEAR(a[i], b[i], 1e-5) << "output " << i;
  return r;
}

int64_t after(const SurgeryResult& r, const std::string& name) {
  for (const UnitChange& c : r.changes)
    if (c.layer == name) return c.after;
  return -1;
}

TEST(GraphPrune, BatchNormFollowsItsChannel) {
  Net n = build(conv_bn_spec());
  const Structure s = prunable_structure(n.model, n.ps);
  const ChannelGroup& g = s.groups[layer(s, "conv1").group];
  ASSERT_TRUE(g.removable);
  ASSERT_EQ(g.followers.size(), 1u);
  EXPECT_EQ(n.model.layer(g.followers[0].layer_index).name(), "bn1");
  EXPECT_EQ(g.followers[0].params.size(), 4u);  // scale, shift, running mean and variance
  EXPECT_FALSE(g.chain) << "a BatchNorm in between: no bias fold";

  Masks masks = prune_channels(n, s, 0.5);
  const ParamEntry& gamma = n.ps.entry(*n.ps.find("bn1.weight"));
  const ParamEntry& mean = n.ps.entry(*n.ps.find("bn1.running_mean"));
  const float* k = masks.keep_data();
  EXPECT_EQ(std::count(k + gamma.offset, k + gamma.offset + gamma.size, 0.0f), 3)
      << "the scale of the 3 removed channels is masked";
  EXPECT_EQ(std::count(k + mean.offset, k + mean.offset + mean.size, 0.0f), 0)
      << "running statistics are the layer's own, never masked";

  const SurgeryResult r = expect_surgery_keeps_outputs(n, conv_bn_spec(), masks);
  EXPECT_EQ(after(r, "conv1"), 3);
  EXPECT_EQ(after(r, "conv2"), 2);  // round(5 * 0.5) = 3 removed
  EXPECT_EQ(r.checkpoint.tensors.at("bn1.running_var").shape, (Shape{3}));
  EXPECT_EQ(r.checkpoint.tensors.at("conv2.weight").shape[1], 3);
}

TEST(GraphPrune, ChannelsTiedByAResidualAddGoTogether) {
  Net n = build(residual_spec());
  const Structure s = prunable_structure(n.model, n.ps);
  ASSERT_EQ(layer(s, "stem").group, layer(s, "conv2").group);
  const ChannelGroup& g = s.groups[layer(s, "stem").group];
  EXPECT_TRUE(g.removable);
  EXPECT_EQ(g.producers.size(), 2u);
  EXPECT_EQ(g.readers.size(), 2u);    // conv1 and fc
  EXPECT_EQ(g.followers.size(), 2u);  // bn1 and bn3
  const ChannelGroup& inner = s.groups[layer(s, "conv1").group];
  EXPECT_NE(layer(s, "conv1").group, layer(s, "stem").group);
  EXPECT_EQ(inner.producers.size(), 1u);
  EXPECT_FALSE(s.groups[layer(s, "fc").group].removable) << "the outputs";

  Masks masks = prune_channels(n, s, 0.5);
  // The same 4 channels of stem and conv2: their rows are masked together.
  const auto dead_rows = [&](const std::string& name) {
    const PrunableLayer& p = layer(s, name);
    std::vector<int64_t> out;
    const float* k = masks.keep_data() + n.ps.entry(p.weight).offset;
    for (int64_t u = 0; u < p.units; ++u)
      if (std::all_of(k + u * p.fan_in, k + (u + 1) * p.fan_in, [](float v) { return v == 0; }))
        out.push_back(u);
    return out;
  };
  EXPECT_EQ(dead_rows("stem").size(), 4u);
  EXPECT_EQ(dead_rows("stem"), dead_rows("conv2"));

  const SurgeryResult r = expect_surgery_keeps_outputs(n, residual_spec(), masks);
  EXPECT_EQ(after(r, "stem"), 4);
  EXPECT_EQ(after(r, "conv2"), 4);
  EXPECT_EQ(after(r, "conv1"), 4);
  EXPECT_EQ(r.checkpoint.tensors.at("fc.weight").shape, (Shape{3, 4}));
  EXPECT_EQ(r.checkpoint.tensors.at("bn3.running_mean").shape, (Shape{4}));
}

TEST(GraphPrune, ConcatReadersGetEachBranchsColumns) {
  Net n = build(concat_spec());
  const Structure s = prunable_structure(n.model, n.ps);
  const ChannelGroup& ga = s.groups[layer(s, "a").group];
  const ChannelGroup& gb = s.groups[layer(s, "b").group];
  ASSERT_EQ(ga.readers.size(), 1u);
  ASSERT_EQ(gb.readers.size(), 1u);
  EXPECT_EQ(ga.readers[0].first, 0);
  EXPECT_EQ(gb.readers[0].first, 6 * 9);  // after a's 6 channels of 3x3 columns
  EXPECT_EQ(gb.readers[0].spatial, 9);
  Masks masks = prune_channels(n, s, 0.5);
  const SurgeryResult r = expect_surgery_keeps_outputs(n, concat_spec(), masks);
  EXPECT_EQ(after(r, "a"), 3);
  EXPECT_EQ(after(r, "b"), 2);
  EXPECT_EQ(r.checkpoint.tensors.at("c.weight").shape, (Shape{2, 5, 3, 3}));
}

TEST(GraphPrune, ConcatOfFlattenedMapsSpansEachChannelsPositions) {
  Net n = build(flat_concat_spec());
  const Structure s = prunable_structure(n.model, n.ps);
  const ChannelGroup& gb = s.groups[layer(s, "b").group];
  ASSERT_EQ(gb.readers.size(), 1u);
  EXPECT_EQ(gb.readers[0].first, 6 * 16);  // a's 6 channels of 4x4 positions
  EXPECT_EQ(gb.readers[0].spatial, 16);
  Masks masks = prune_channels(n, s, 0.5);
  const SurgeryResult r = expect_surgery_keeps_outputs(n, flat_concat_spec(), masks);
  EXPECT_EQ(r.checkpoint.tensors.at("fc1.weight").shape, (Shape{3, (3 + 2) * 16}));
}

TEST(GraphPrune, LayerNormMixesChannelsSoTheUnitsBeforeItStay) {
  const nn::ModelSpec spec{{L("flatten", "flat"), L("linear", "fc1", {{"out", 8}}),
                            L("layernorm", "ln"), L("linear", "fc2", {{"out", 6}}), L("relu", "r"),
                            L("linear", "fc3", {{"out", 3}})}};
  Net n{nn::Model::build(spec, kInput), {}};
  n.model.declare(n.ps);
  n.ps.finalize();
  const Structure s = prunable_structure(n.model, n.ps);
  EXPECT_FALSE(s.groups[layer(s, "fc1").group].removable);
  EXPECT_NE(layer(s, "fc1").note.find("'ln' (layernorm)"), std::string::npos)
      << layer(s, "fc1").note;
  EXPECT_TRUE(s.groups[layer(s, "fc2").group].removable);
  EXPECT_TRUE(s.groups[layer(s, "fc2").group].chain);
}

TEST(GraphPrune, AnAddWithTheModelInputKeepsTheChannels) {
  const nn::ModelSpec spec{{L("conv2d", "c", conv(2, 3, 1)), L("add", "add", {}, {"input", "c"}),
                            L("flatten", "flat"), L("linear", "fc", {{"out", 3}})}};
  Net n{nn::Model::build(spec, kInput), {}};
  n.model.declare(n.ps);
  n.ps.finalize();
  const Structure s = prunable_structure(n.model, n.ps);
  EXPECT_FALSE(s.groups[layer(s, "c").group].removable);
  EXPECT_NE(layer(s, "c").note.find("model input"), std::string::npos) << layer(s, "c").note;
}

// Unstructured pruning can empty a row whose channel the next layers still read: off a chain
// surgery keeps it and says so, and the outputs are unchanged.
TEST(GraphPrune, AnEmptiedRowStillReadIsKeptWithANote) {
  Net n = build(residual_spec());
  const Structure s = prunable_structure(n.model, n.ps);
  Masks masks;
  masks.init(n.ps);
  for (const std::string name : {"stem", "conv2"}) {
    const PrunableLayer& p = layer(s, name);
    std::fill_n(masks.keep().begin() + n.ps.entry(p.weight).offset + 2 * p.fan_in, p.fan_in, 0.0f);
  }
  masks.apply_to_weights(n.ps);
  const SurgeryResult r =
      remove_dead_units(residual_spec(), kInput, test_net::masked_checkpoint(n.ps, masks));
  EXPECT_TRUE(r.changes.empty());
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("stem+conv2 unit 2"), std::string::npos) << r.notes[0];
}

}  // namespace sculpt::prune::graph_test

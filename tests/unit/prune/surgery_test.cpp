// Surgery: a model rebuilt from the result computes what the masked model computes, every
// per-parameter tensor is sliced like its parameter, constant outputs of dead units are folded
// into the next bias, and the error cases.
#include "prune/surgery.h"

#include <gtest/gtest.h>

#include <map>

#include "core/error.h"
#include "core/rng.h"
#include "io/checkpoint.h"
#include "prune/structure.h"
#include "unit/prune/prune_test_net.h"

namespace sculpt::prune {
namespace {

using test_net::L;

nn::ModelSpec mlp_spec() {
  return {{L("flatten"), L("linear", {{"out", 12}}), L("relu"), L("linear", {{"out", 8}}),
           L("relu"), L("linear", {{"out", 3}})}};
}
const Shape kMlpInput{1, 4, 4};

nn::ModelSpec conv_spec() {
  return {{L("conv2d", {{"out", 4}, {"kernel", 3}}), L("relu"), L("maxpool2d", {{"kernel", 2}}),
           L("conv2d", {{"out", 5}, {"kernel", 3}, {"padding", 1}}), L("relu"), L("flatten"),
           L("linear", {{"out", 6}}), L("relu"), L("linear", {{"out", 3}})}};
}
const Shape kConvInput{1, 10, 10};

struct SurgeryNet {
  nn::Model model;
  ParamStore ps;
  Structure structure;
  std::vector<PrunableLayer> layers;  // structure.layers
  std::map<std::string, std::vector<float>> masks;  // per parameter, all ones until kill()

  // Kills unit u of layer `name` as structured pruning does: weight row, bias entry and the
  // next layer's columns. row_only: just the weight row, as unstructured pruning may leave it.
  void kill(const std::string& name, int64_t u, bool row_only = false) {
    auto it = std::find_if(layers.begin(), layers.end(), [&](auto& l) { return l.name == name; });
    ASSERT_NE(it, layers.end()) << name;
    auto& w = masks[ps.entry(it->weight).name];
    std::fill_n(w.begin() + u * it->fan_in, it->fan_in, 0.0f);
    if (row_only) return;
    if (it->bias) masks[ps.entry(*it->bias).name][size_t(u)] = 0.0f;
    for (const ChannelReader& r : structure.groups[it->group].readers) {
      const PrunableLayer& next = layers[r.layer];
      auto& nw = masks[ps.entry(next.weight).name];
      for (int64_t o = 0; o < next.units; ++o)
        std::fill_n(nw.begin() + o * next.fan_in + r.first + u * r.spatial, r.spatial, 0.0f);
    }
  }
  void apply_masks() {
    for (size_t i = 0; i < ps.count(); ++i)
      for (int64_t j = 0; j < ps.entry(i).size; ++j)
        ps.value(i)[j] *= masks[ps.entry(i).name][size_t(j)];
  }
};

SurgeryNet build(const nn::ModelSpec& spec, const Shape& input, uint64_t seed = 7) {
  SurgeryNet n{nn::Model::build(spec, input), {}, {}, {}, {}};
  n.model.declare(n.ps);
  n.ps.finalize();
  Rng rng(seed);
  n.model.init(n.ps, rng);
  // Random biases too (init may zero them), so a wrong bias slice shows in the outputs.
  for (size_t i = 0; i < n.ps.count(); ++i)
    if (n.ps.entry(i).name.ends_with(".bias"))
      for (int64_t j = 0; j < n.ps.entry(i).size; ++j)
        n.ps.value(i)[j] = static_cast<float>(rng.uniform(-0.5, 0.5));
  n.structure = prunable_structure(n.model, n.ps);
  n.layers = n.structure.layers;
  for (const auto& e : n.ps.entries()) n.masks[e.name].assign(size_t(e.size), 1.0f);
  return n;
}

float planted_m(float v) { return 2.0f * v + 1.0f; }

// Parameters, masks, optimizer state opt.m = 2 w + 1, a flat per-parameter array holding each
// entry's original index, and a tensor of no parameter.
io::Checkpoint checkpoint(const SurgeryNet& n, bool with_masks = true) {
  io::Checkpoint ck;
  ck.metadata["recipe"] = "test";
  ck.tensors["opt.step"] = {{1}, {42.0f}};
  for (size_t i = 0; i < n.ps.count(); ++i) {
    const ParamEntry& e = n.ps.entry(i);
    std::vector<float> v(n.ps.value(i), n.ps.value(i) + e.size), m, idx;
    for (float x : v) m.push_back(planted_m(x));
    for (int64_t j = 0; j < e.size; ++j) idx.push_back(static_cast<float>(j));
    ck.tensors[e.name] = {e.shape, v};
    ck.tensors["opt.m." + e.name] = {e.shape, m};
    ck.tensors["prune.stat." + e.name] = {{e.size}, idx};
    if (with_masks) ck.tensors["mask." + e.name] = {e.shape, n.masks.at(e.name)};
  }
  return ck;
}

// The model of a surgery result, loaded with its parameters.
SurgeryNet rebuild(const SurgeryResult& r, const Shape& input) {
  SurgeryNet n{nn::Model::build(r.spec, input), {}, {}, {}};
  n.model.declare(n.ps);
  n.ps.finalize();
  io::Checkpoint params;
  for (const auto& [name, t] : r.checkpoint.tensors)
    if (!name.starts_with("prune.")) params.tensors[name] = t;
  io::restore_params(n.ps, params);
  return n;
}

std::vector<float> forward(SurgeryNet& n, const std::vector<float>& x, int64_t batch) {
  n.model.reserve(batch);
  const float* y = n.model.forward(n.ps, x.data(), batch, nn::Pass{});
  return {y, y + batch * n.model.outputs()};
}

std::vector<float> random_inputs(const Shape& input, int64_t batch, uint64_t seed = 3) {
  Rng rng(seed);
  std::vector<float> x(size_t(batch * numel(input)));
  for (float& v : x) v = static_cast<float>(rng.uniform(-1.0, 1.0));
  return x;
}

void expect_same_outputs(SurgeryNet& masked, const SurgeryResult& r, const Shape& input) {
  SurgeryNet small = rebuild(r, input);
  const std::vector<float> x = random_inputs(input, 5);
  const std::vector<float> a = forward(masked, x, 5), b = forward(small, x, 5);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << "output " << i;
}

int64_t params_of(const SurgeryResult& r, const Shape& input) {
  return rebuild(r, input).ps.num_params();
}

TEST(Surgery, MlpMatchesMaskedModel) {
  SurgeryNet n = build(mlp_spec(), kMlpInput);
  n.kill("fc1", 3);
  n.kill("fc1", 11);
  n.kill("fc2", 0);
  n.kill("fc2", 5);
  n.kill("fc3", 1);  // an output: masked but never removed
  n.apply_masks();
  const SurgeryResult r = remove_dead_units(mlp_spec(), kMlpInput, checkpoint(n));
  ASSERT_EQ(r.changes.size(), 2u);
  EXPECT_EQ(r.changes[0].layer, "fc1");
  EXPECT_EQ(r.changes[0].before, 12);
  EXPECT_EQ(r.changes[0].after, 10);
  EXPECT_EQ(r.changes[1].layer, "fc2");
  EXPECT_EQ(r.changes[1].after, 6);
  EXPECT_TRUE(r.notes.empty());
  EXPECT_EQ(r.spec.layers[1].name, "fc1");
  EXPECT_EQ(r.spec.layers[1].args.at("out"), 10);
  EXPECT_EQ(r.spec.layers[4].name, "relu2");
  EXPECT_EQ(r.spec.layers[5].args.at("out"), 3);
  EXPECT_EQ(r.checkpoint.tensors.at("fc2.weight").shape, (Shape{6, 10}));
  // 16*12+12 + 12*8+8 + 8*3+3 = 335 before.
  EXPECT_EQ(params_of(r, kMlpInput), (16 * 10 + 10) + (10 * 6 + 6) + (6 * 3 + 3));
  expect_same_outputs(n, r, kMlpInput);
}

TEST(Surgery, ConvNetMatchesMaskedModel) {
  SurgeryNet n = build(conv_spec(), kConvInput);
  // conv1 [4,1,3,3] -> [4,8,8] -> pool [4,4,4]; conv2 [5,4,3,3] -> [5,4,4]; fc1 [6,80].
  ASSERT_EQ(n.structure.groups[n.layers[0].group].readers.at(0).spatial, 9);
  ASSERT_EQ(n.structure.groups[n.layers[1].group].readers.at(0).spatial, 16);
  n.kill("conv1", 1);
  n.kill("conv2", 2);
  n.kill("conv2", 4);
  n.kill("fc1", 0);
  n.apply_masks();
  const SurgeryResult r = remove_dead_units(conv_spec(), kConvInput, checkpoint(n));
  ASSERT_EQ(r.changes.size(), 3u);
  EXPECT_EQ(r.checkpoint.tensors.at("conv1.weight").shape, (Shape{3, 1, 3, 3}));
  EXPECT_EQ(r.checkpoint.tensors.at("conv2.weight").shape, (Shape{3, 3, 3, 3}));
  EXPECT_EQ(r.checkpoint.tensors.at("fc1.weight").shape, (Shape{5, 48}));
  EXPECT_EQ(r.checkpoint.tensors.at("fc2.weight").shape, (Shape{3, 5}));
  EXPECT_EQ(params_of(r, kConvInput), (3 * 9 + 3) + (3 * 27 + 3) + (5 * 48 + 5) + (3 * 5 + 3));
  expect_same_outputs(n, r, kConvInput);
}

TEST(Surgery, SlicesEveryPerParameterTensorLikeItsParameter) {
  SurgeryNet n = build(mlp_spec(), kMlpInput);
  n.kill("fc1", 3);
  n.kill("fc2", 5);
  n.apply_masks();
  const io::Checkpoint ck = checkpoint(n);
  const SurgeryResult r = remove_dead_units(mlp_spec(), kMlpInput, ck);
  // Optimizer state and masks follow their parameter entry for entry.
  const SurgeryNet small = rebuild(r, kMlpInput);
  for (const auto& e : small.ps.entries()) {
    const auto& w = r.checkpoint.tensors.at(e.name);
    const auto& m = r.checkpoint.tensors.at("opt.m." + e.name);
    const auto& mask = r.checkpoint.tensors.at("mask." + e.name);
    EXPECT_EQ(m.shape, w.shape) << e.name;
    ASSERT_EQ(m.data.size(), w.data.size());
    for (size_t j = 0; j < w.data.size(); ++j) EXPECT_EQ(m.data[j], planted_m(w.data[j]));
    // Dead units are gone, and so are the columns of the next layer they fed: all kept.
    for (float k : mask.data) EXPECT_EQ(k, 1.0f) << e.name;
  }
  // The flat array of original indices shows exactly which entries survive: fc2 [8, 12] loses
  // row 5 and column 3.
  std::vector<float> want;
  for (int r2 = 0; r2 < 8; ++r2)
    for (int c = 0; c < 12; ++c)
      if (r2 != 5 && c != 3) want.push_back(float(r2 * 12 + c));
  EXPECT_EQ(r.checkpoint.tensors.at("prune.stat.fc2.weight").data, want);
  EXPECT_EQ(r.checkpoint.tensors.at("prune.stat.fc2.weight").shape, (Shape{7 * 11}));
  EXPECT_EQ(r.checkpoint.tensors.at("opt.step").data, (std::vector<float>{42.0f}));
  EXPECT_EQ(r.checkpoint.metadata, ck.metadata);
  EXPECT_EQ(r.checkpoint.tensors.size(), ck.tensors.size());
}

TEST(Surgery, NoMasksChangesNothing) {
  SurgeryNet n = build(conv_spec(), kConvInput);
  const io::Checkpoint ck = checkpoint(n, /*with_masks=*/false);
  const SurgeryResult r = remove_dead_units(conv_spec(), kConvInput, ck);
  EXPECT_TRUE(r.changes.empty());
  ASSERT_EQ(r.checkpoint.tensors.size(), ck.tensors.size());
  for (const auto& [name, t] : ck.tensors) {
    EXPECT_EQ(r.checkpoint.tensors.at(name).shape, t.shape) << name;
    EXPECT_EQ(r.checkpoint.tensors.at(name).data, t.data) << name;
  }
  for (size_t i = 0; i < r.spec.layers.size(); ++i) {
    EXPECT_EQ(r.spec.layers[i].name, n.model.layer(i).name());
    EXPECT_EQ(r.spec.layers[i].args, conv_spec().layers[i].args);
  }
}

TEST(Surgery, KillingEveryUnitOfALayerIsAShapeError) {
  SurgeryNet n = build(mlp_spec(), kMlpInput);
  for (int u = 0; u < 12; ++u) n.kill("fc1", u);
  n.apply_masks();
  try {
    remove_dead_units(mlp_spec(), kMlpInput, checkpoint(n));
    FAIL() << "no error";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot remove all 12 units of fc1"), std::string::npos)
        << e.what();
  }
}

TEST(Surgery, MissingParameterIsADataError) {
  SurgeryNet n = build(mlp_spec(), kMlpInput);
  io::Checkpoint ck = checkpoint(n);
  ck.tensors.erase("fc2.bias");
  EXPECT_THROW(remove_dead_units(mlp_spec(), kMlpInput, ck), DataError);
}

TEST(Surgery, FoldsConstantOutputsOfDeadUnitsIntoTheNextBias) {
  // Rows emptied by unstructured pruning: the next columns still read the dead units, and
  // sigmoid(bias) or relu(bias) is not zero.
  const nn::ModelSpec spec{{L("flatten"), L("linear", {{"out", 6}}), L("sigmoid"),
                            L("linear", {{"out", 5}, {"in", 6}}), L("relu"),
                            L("linear", {{"out", 3}})}};
  SurgeryNet n = build(spec, kMlpInput);
  n.kill("fc1", 1, /*row_only=*/true);
  n.kill("fc1", 4, /*row_only=*/true);
  n.kill("fc2", 2, /*row_only=*/true);
  n.ps.value(*n.layers[1].bias)[2] = 0.75f;  // relu(0.75) reaches fc3
  n.apply_masks();
  const SurgeryResult r = remove_dead_units(spec, kMlpInput, checkpoint(n));
  ASSERT_EQ(r.changes.size(), 2u);
  EXPECT_EQ(r.changes[0].after, 4);
  EXPECT_EQ(r.changes[1].after, 4);
  EXPECT_EQ(r.spec.layers[3].args.at("in"), 4);  // an explicit `in` follows the cut
  expect_same_outputs(n, r, kMlpInput);
}

TEST(Surgery, ConvFoldsWithoutPaddingAndKeepsAnUnfoldableUnit) {
  const Shape input{1, 8, 8};
  auto spec = [](double pad) {
    return nn::ModelSpec{{L("conv2d", {{"out", 3}, {"kernel", 3}}), L("sigmoid"),
                          L("maxpool2d", {{"kernel", 2}}),
                          L("conv2d", {{"out", 2}, {"kernel", 3}, {"padding", pad}}), L("flatten"),
                          L("linear", {{"out", 2}})}};
  };
  for (const double pad : {0.0, 1.0}) {
    for (const bool row_only : {false, true}) {
      SCOPED_TRACE(testing::Message() << "padding " << pad << " row_only " << row_only);
      SurgeryNet n = build(spec(pad), input);
      n.kill("conv1", 1, row_only);
      n.apply_masks();
      const SurgeryResult r = remove_dead_units(spec(pad), input, checkpoint(n));
      if (pad == 0 || !row_only) {  // folded, or conv2 does not read it at all
        ASSERT_EQ(r.changes.size(), 1u);
        EXPECT_EQ(r.changes[0].after, 2);
        EXPECT_TRUE(r.notes.empty());
      } else {  // the padded border sees 0 where the rest sees 0.5: no bias can stand in
        EXPECT_TRUE(r.changes.empty());
        ASSERT_EQ(r.notes.size(), 1u);
        EXPECT_NE(r.notes[0].find("conv1 unit 1"), std::string::npos) << r.notes[0];
      }
      expect_same_outputs(n, r, input);
    }
  }
}

}  // namespace
}  // namespace sculpt::prune

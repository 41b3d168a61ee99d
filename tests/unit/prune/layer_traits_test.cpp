// The pruner reads layer traits, not kind strings: a layer it does not know (a library user's
// own, or one whose traits were forgotten) never makes a model fail with pruning off, and
// structured pruning leaves the units before it alone, with a note; weight pruning still works.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "nn/layers/linear.h"
#include "nn/layers/activations.h"
#include "nn/model.h"
#include "prune/criterion.h"
#include "prune/select.h"
#include "prune/structure.h"
#include "report/prune_table.h"

namespace sculpt::prune {
namespace {

// Reverses the features of each sample: shape-preserving, but unit i comes out at n - 1 - i, so
// it does not keep channels. States no traits (the defaults).
class Reverse : public nn::Layer {
 public:
  explicit Reverse(std::string name) : nn::Layer(std::move(name)) {}
  std::string_view kind() const override { return "reverse"; }
  std::string describe() const override { return name() + " Reverse"; }
  Shape bind(const Shape& in) override {
    in_ = out_ = in;
    return out_;
  }
  void forward(ParamStore&, const float* x, float* y, int64_t n, const nn::Pass&) override {
    reverse(x, y, n);
  }
  void backward(ParamStore&, const float*, const float*, const float* dy, float* dx,
                int64_t n) override {
    if (dx) reverse(dy, dx, n);
  }

 private:
  void reverse(const float* x, float* y, int64_t n) const {
    const int64_t w = numel(in_);
    for (int64_t i = 0; i < n; ++i) std::reverse_copy(x + i * w, x + (i + 1) * w, y + i * w);
  }
};

struct Net {
  nn::Model model;
  ParamStore ps;
};

// fc1 (16) -> relu -> `middle` -> fc2 (8) -> relu -> fc3 (3), on 12 inputs.
Net build(std::unique_ptr<nn::Layer> middle) {
  std::vector<std::unique_ptr<nn::Layer>> layers;
  layers.push_back(std::make_unique<nn::Linear>("fc1", 16));
  layers.push_back(std::make_unique<nn::ReLU>("relu1"));
  layers.push_back(std::move(middle));
  layers.push_back(std::make_unique<nn::Linear>("fc2", 8));
  layers.push_back(std::make_unique<nn::ReLU>("relu2"));
  layers.push_back(std::make_unique<nn::Linear>("fc3", 3));
  Net n{nn::Model::build(std::move(layers), Shape{12}), {}};
  n.model.declare(n.ps);
  n.ps.finalize();
  Rng rng(5);
  n.model.init(n.ps, rng);
  return n;
}

TEST(LayerTraits, EveryBuiltInLayerOfTheChainKeepsChannels) {
  Net n = build(std::make_unique<nn::ReLU>("relu_extra"));
  const Structure st = prunable_structure(n.model, n.ps);
  ASSERT_EQ(st.layers.size(), 3u);
  const ChannelGroup& g = st.groups[st.layers[0].group];
  EXPECT_TRUE(g.removable);
  ASSERT_EQ(g.readers.size(), 1u);
  EXPECT_EQ(g.readers[0].layer, 1u);
  EXPECT_TRUE(st.layers[0].note.empty());
}

TEST(LayerTraits, AnUnknownLayerCutsTheChainWithANoteInsteadOfAnError) {
  Net n = build(std::make_unique<Reverse>("rev"));
  Structure st;
  ASSERT_NO_THROW(st = prunable_structure(n.model, n.ps));
  const std::vector<PrunableLayer>& layers = st.layers;
  ASSERT_EQ(layers.size(), 3u);
  EXPECT_FALSE(st.groups[layers[0].group].removable)
      << "fc1's units cannot be followed through 'rev'";
  EXPECT_NE(layers[0].note.find("'rev' (reverse)"), std::string::npos) << layers[0].note;
  EXPECT_TRUE(st.groups[layers[1].group].removable);  // fc2 -> fc3 as before
  EXPECT_TRUE(layers[1].note.empty());

  // Neuron pruning removes fc2's units, never fc1's; the table says why.
  PruneConfig cfg;
  cfg.granularity = prune::Granularity::kNeuron;
  cfg.scope = prune::Scope::kLayer;
  Masks masks;
  masks.init(n.ps);
  AlignedVector<float> scores(size_t(n.ps.arena_size()));
  make_criterion("magnitude")->score(n.ps, {}, scores);
  select(st, n.ps, scores, cfg, 0.5, masks);
  const std::vector<LayerStats> stats = layer_stats(layers, n.ps, masks);
  EXPECT_EQ(stats[0].dead_units, 0);
  EXPECT_EQ(stats[1].dead_units, 4);
  const std::string table = report::format_prune_table(layers, stats);
  EXPECT_NE(table.find("note: fc1: units kept"), std::string::npos) << table;

  // Weight pruning still reaches fc1.
  cfg.granularity = prune::Granularity::kUnstructured;
  masks.init(n.ps);
  select(st, n.ps, scores, cfg, 0.5, masks);
  EXPECT_GT(layer_stats(layers, n.ps, masks)[0].params - layer_stats(layers, n.ps, masks)[0].kept,
            0);
}

}  // namespace
}  // namespace sculpt::prune

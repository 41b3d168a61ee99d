// Pruning recurrent layers: an LSTM or GRU is two prunable matrices (weight_ih, weight_hh) of
// one channel group whose unit u owns rows u + k * hidden of both (k < 4 or 3 gates) and is read
// back by weight_hh's column u and by the next layer's column u. Unstructured and N:M pruning
// reach every gate matrix; removing hidden units masks all of that, and surgery then keeps the
// outputs of the masked model.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/masks.h"
#include "core/rng.h"
#include "io/checkpoint.h"
#include "nn/model.h"
#include "prune/criterion.h"
#include "prune/select.h"
#include "prune/structure.h"
#include "prune/surgery.h"
#include "unit/prune/prune_test_net.h"

// A named namespace: the unit tests are compiled in batches.
namespace sculpt::prune::recurrent_prune_test {

constexpr int64_t kSteps = 5, kVocab = 7;
const Shape kInput{kSteps};

nn::LayerSpec L(std::string type, std::string name, std::map<std::string, double> args = {}) {
  return {std::move(type), std::move(name), std::move(args), {}};
}

// embed (8) -> rnn1 (12) -> dropout -> rnn2 (8) -> out (kVocab per step): the char model's shape.
nn::ModelSpec text_spec(const std::string& cell) {
  return {{L("embedding", "embed", {{"vocab", kVocab}, {"dim", 8}}),
           L(cell, "rnn1", {{"hidden", 12}}), L("dropout", "drop", {{"p", 0.2}}),
           L(cell, "rnn2", {{"hidden", 8}}), L("linear", "out", {{"out", kVocab}})}};
}

int64_t gates_of(const std::string& cell) { return cell == "lstm" ? 4 : 3; }

struct Net {
  nn::Model model;
  ParamStore ps;
};

// Random weights and biases (biases too, so a unit sliced from the wrong place shows).
Net build(const nn::ModelSpec& spec, uint64_t seed = 3) {
  Net n{nn::Model::build(spec, kInput), {}};
  n.model.declare(n.ps);
  n.ps.finalize();
  Rng rng(seed);
  n.model.init(n.ps, rng);
  for (size_t i = 0; i < n.ps.count(); ++i)
    if (n.ps.entry(i).name.find("bias") != std::string::npos)
      for (float& v : n.ps.value_span(i)) v = static_cast<float>(rng.uniform(-0.5, 0.5));
  return n;
}

Masks prune_to(Net& n, const Structure& s, const PruneConfig& cfg, double sparsity) {
  Masks masks;
  masks.init(n.ps);
  AlignedVector<float> scores(size_t(n.ps.arena_size()));
  make_criterion("magnitude")->score(n.ps, {}, scores);
  select(s, n.ps, scores, cfg, sparsity, masks);
  return masks;
}

PruneConfig units_config() {
  PruneConfig cfg;
  cfg.granularity = Granularity::kNeuron;
  cfg.scope = Scope::kLayer;
  return cfg;
}

// Entry count of `p`'s weight that the mask keeps in row `row`.
int64_t kept_in_row(const ParamStore& ps, const Masks& m, const PrunableLayer& p, int64_t row) {
  const float* k = m.keep_data() + ps.entry(p.weight).offset + row * p.fan_in;
  return std::count(k, k + p.fan_in, 1.0f);
}

std::vector<float> logits(Net& n, const std::vector<float>& ids, int64_t batch) {
  n.model.reserve(batch);
  const float* y = n.model.forward(n.ps, ids.data(), batch, nn::Pass{});
  return {y, y + batch * kSteps * kVocab};
}

class RecurrentPrune : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Cells, RecurrentPrune, ::testing::Values("lstm", "gru"));

TEST_P(RecurrentPrune, EachLayerIsTwoMatricesOfOneGroupReadBackByItsRecurrentColumns) {
  Net n = build(text_spec(GetParam()));
  const Structure s = prunable_structure(n.model, n.ps);
  ASSERT_EQ(s.layers.size(), 5u);  // rnn1 ih, hh; rnn2 ih, hh; out
  const PrunableLayer &ih = s.layers[0], &hh = s.layers[1], &next = s.layers[2];
  EXPECT_EQ(ih.label(), "rnn1.weight_ih");
  EXPECT_EQ(hh.label(), "rnn1.weight_hh");
  EXPECT_EQ(ih.gates, gates_of(GetParam()));
  EXPECT_EQ(ih.units, 12);
  EXPECT_EQ(ih.fan_in, 8);
  EXPECT_EQ(hh.fan_in, 12);
  EXPECT_EQ(ih.out_spatial, kSteps);
  EXPECT_EQ(ih.group, hh.group);
  const ChannelGroup& g = s.groups[ih.group];
  EXPECT_TRUE(g.removable) << g.note;
  EXPECT_FALSE(g.chain);
  ASSERT_EQ(g.readers.size(), 2u);  // its own weight_hh, and rnn2's weight_ih (through dropout)
  EXPECT_EQ(g.readers[0].layer, 1u);
  EXPECT_EQ(g.readers[1].layer, 2u);
  EXPECT_EQ(next.label(), "rnn2.weight_ih");
  EXPECT_FALSE(s.groups[s.layers[4].group].removable);  // the logits
  EXPECT_EQ(layer_names(s.layers), "rnn1, rnn2, out");
}

TEST_P(RecurrentPrune, RemovingAHiddenUnitMasksEveryGateRowAndItsColumns) {
  Net n = build(text_spec(GetParam()));
  const Structure s = prunable_structure(n.model, n.ps);
  const Masks m = prune_to(n, s, units_config(), 0.5);
  const PrunableLayer &ih = s.layers[0], &hh = s.layers[1], &next = s.layers[2];
  const float* b_ih = m.keep_data() + n.ps.entry(*ih.bias).offset;
  int64_t removed = 0;
  for (int64_t u = 0; u < ih.units; ++u) {
    const bool gone = kept_in_row(n.ps, m, ih, u) == 0;
    removed += gone ? 1 : 0;
    for (int64_t k = 0; k < ih.gates; ++k) {
      EXPECT_EQ(kept_in_row(n.ps, m, ih, k * ih.units + u), gone ? 0 : ih.fan_in) << u;
      EXPECT_EQ(kept_in_row(n.ps, m, hh, k * hh.units + u) == 0, gone) << u;
      EXPECT_EQ(b_ih[k * ih.units + u] == 0.0f, gone) << u;
    }
    for (const PrunableLayer* r : {&hh, &next}) {  // column u of both readers
      int64_t kept = 0;
      for (int64_t row = 0; row < r->rows(); ++row)
        kept += m.keep_data()[n.ps.entry(r->weight).offset + row * r->fan_in + u] != 0.0f;
      EXPECT_EQ(kept == 0, gone) << r->label() << " column " << u;
    }
  }
  EXPECT_EQ(removed, 6);
}

TEST_P(RecurrentPrune, SurgeryRemovesHiddenUnitsAndKeepsTheOutputs) {
  const nn::ModelSpec spec = text_spec(GetParam());
  Net masked = build(spec);
  const Structure s = prunable_structure(masked.model, masked.ps);
  const Masks m = prune_to(masked, s, units_config(), 0.5);
  const SurgeryResult r =
      remove_dead_units(spec, kInput, test_net::masked_checkpoint(masked.ps, m));
  ASSERT_EQ(r.changes.size(), 2u);
  EXPECT_EQ(r.changes[0].layer, "rnn1");
  EXPECT_EQ(r.changes[0].after, 6);
  EXPECT_EQ(r.changes[1].layer, "rnn2");
  EXPECT_EQ(r.changes[1].after, 4);
  EXPECT_EQ(r.spec.layers[1].args.at("hidden"), 6.0);
  EXPECT_TRUE(r.notes.empty());

  Net small{nn::Model::build(r.spec, kInput), {}};
  small.model.declare(small.ps);
  small.ps.finalize();
  io::Checkpoint params;
  for (const auto& [name, t] : r.checkpoint.tensors)
    if (!name.starts_with("mask.")) params.tensors[name] = t;
  io::restore_params(small.ps, params);
  const int64_t g = gates_of(GetParam());
  EXPECT_EQ(small.ps.entry(*small.ps.find("rnn1.weight_hh")).shape, (Shape{g * 6, 6}));
  EXPECT_EQ(small.ps.entry(*small.ps.find("rnn2.weight_ih")).shape, (Shape{g * 4, 6}));

  Rng rng(11);
  std::vector<float> ids(size_t(3 * kSteps));
  for (float& v : ids) v = float(rng.below(kVocab));
  const std::vector<float> a = logits(masked, ids, 3), b = logits(small, ids, 3);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << "logit " << i;
}

TEST_P(RecurrentPrune, NmPrunesEveryGateMatrixInGroupsOfM) {
  Net n = build(text_spec(GetParam()));
  const Structure s = prunable_structure(n.model, n.ps);
  PruneConfig cfg;
  cfg.granularity = Granularity::kNM;
  cfg.n = 2;
  cfg.m = 4;
  const Masks m = prune_to(n, s, cfg, 0.0);
  for (const PrunableLayer& p : s.layers) {
    const ParamEntry& e = n.ps.entry(p.weight);
    for (int64_t at = 0; at < e.size; at += 4) {
      const float* k = m.keep_data() + e.offset + at;
      EXPECT_EQ(std::count(k, k + 4, 0.0f), 2) << p.label() << " at " << at;
    }
  }
}

TEST_P(RecurrentPrune, UnstructuredReachesTheTargetOverAllGateMatrices) {
  Net n = build(text_spec(GetParam()));
  const Structure s = prunable_structure(n.model, n.ps);
  PruneConfig cfg;
  cfg.scope = Scope::kLayer;
  const Masks m = prune_to(n, s, cfg, 0.8);
  for (const PrunableLayer& p : s.layers) {
    const ParamEntry& e = n.ps.entry(p.weight);
    const float* k = m.keep_data() + e.offset;
    EXPECT_NEAR(double(std::count(k, k + e.size, 0.0f)) / double(e.size), 0.8, 0.01) << p.label();
  }
  for (const LayerStats& st : layer_stats(s.layers, n.ps, m))  // a row per matrix
    EXPECT_EQ(st.name.find(".weight_") != std::string::npos, st.name.starts_with("rnn"));
  EXPECT_NEAR(weight_sparsity(s.layers, n.ps, m), 0.8, 1e-3);
}

TEST(RecurrentPruneErrors, AnMThatDoesNotDivideAGateMatrixNamesTheLayer) {
  nn::ModelSpec spec = text_spec("lstm");
  spec.layers[0].args["dim"] = 6;  // rnn1's weight_ih rows of 6
  Net n = build(spec);
  const Structure s = prunable_structure(n.model, n.ps);
  PruneConfig cfg;
  cfg.granularity = Granularity::kNM;
  cfg.n = 2;
  cfg.m = 4;
  try {
    candidates(s, n.ps, cfg);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'rnn1'"), std::string::npos) << e.what();
  }
}

TEST(RecurrentPruneErrors, AModelWithoutPrunableWeightsSaysSo) {
  const nn::ModelSpec spec{{L("embedding", "embed", {{"vocab", kVocab}, {"dim", 4}})}};
  Net n = build(spec);
  const Structure s = prunable_structure(n.model, n.ps);
  EXPECT_TRUE(s.layers.empty());
  try {
    candidates(s, n.ps, PruneConfig{});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no layer with prunable weights"), std::string::npos)
        << e.what();
  }
}

}  // namespace sculpt::prune::recurrent_prune_test

// Truncated backpropagation through time (train.tbptt, src/train/trainer_tbptt.cpp): the
// gradient of a window that starts from a carried state treats that state as a constant (and
// differs from the one through it), evaluation reads each stream of windows as one long window,
// mid-epoch checkpoints hold the carried state ("carry.<layer>") and a wrong or missing one is
// refused.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "../kernels/random_fill.h"
#include "core/error.h"
#include "io/checkpoint.h"
#include "loss/registry.h"
#include "nn/layers/recurrent.h"
#include "nn/model.h"
#include "train/evaluate.h"
#include "train/trainer.h"
#include "unit/temp_dir_test.h"
#include "unit/train/resume_fixtures.h"

namespace sculpt::train {
namespace {

using sculpt::testing::random_vector;

// An embedding, an LSTM, a GRU and a linear layer over windows of `steps` tokens (T unless
// given), the recurrent layers carrying their state. loss(b) = sum(logits(b) * r).
struct CarriedModel {
  static constexpr int64_t n = 2, T = 4, V = 5;
  nn::Model model;
  ParamStore ps;
  std::vector<nn::Recurrent*> rnn;
  std::vector<float> r;
  explicit CarriedModel(int64_t steps = T) {
    const nn::ModelSpec spec{{{"embedding", "embed", {{"vocab", V}, {"dim", 3}}},
                              {"lstm", "lstm1", {{"hidden", 4}}},
                              {"gru", "gru2", {{"hidden", 3}}},
                              {"linear", "out", {{"out", V}}}}};
    model = nn::Model::build(spec, {steps});
    model.declare(ps);
    ps.finalize();
    Rng rng(11);
    model.init(ps, rng);
    model.reserve(n);
    for (size_t i = 0; i < model.size(); ++i)
      if (auto* l = dynamic_cast<nn::Recurrent*>(&model.layer(i))) rnn.push_back(l);
    for (nn::Recurrent* l : rnn) l->carry_state(true);
    r = random_vector(n * steps * V, rng);
  }
  double loss(const std::vector<float>& x) {
    const float* logits = model.forward(ps, x.data(), n, {.mode = nn::Mode::kTrain});
    double l = 0.0;
    for (size_t k = 0; k < r.size(); ++k) l += double{logits[k]} * r[k];
    return l;
  }
};

std::vector<float> tokens(int64_t count, int seed) {
  std::vector<float> x;
  for (int64_t i = 0; i < count; ++i) x.push_back(static_cast<float>((i * 3 + seed * i / 2) % 5));
  return x;
}

TEST(Tbptt, TheCarriedStateIsAConstantOfTheNextWindowsGradient) {
  CarriedModel m;
  const auto a = tokens(m.n * m.T, 1), b = tokens(m.n * m.T, 4);
  m.loss(a);  // window 1 leaves the state window 2 starts from
  std::vector<std::vector<float>> carried;
  for (const nn::Recurrent* l : m.rnn)
    carried.emplace_back(l->state().begin(), l->state().begin() + m.n * l->state_width());
  auto from_carried = [&] {
    for (size_t i = 0; i < m.rnn.size(); ++i) m.rnn[i]->set_state(carried[i].data(), m.n);
    return m.loss(b);
  };
  auto through_both = [&] {  // window 1 recomputed: the state moves with the weights
    for (nn::Recurrent* l : m.rnn) l->reset_state();
    m.loss(a);
    return m.loss(b);
  };
  from_carried();
  m.ps.zero_grads();
  m.model.backward(m.ps, b.data(), m.r.data(), m.n);
  const std::vector<float> analytic(m.ps.grads().begin(), m.ps.grads().end());
  const float h = 1e-2f;
  double through_gap = 0.0;
  for (size_t k = 0; k < analytic.size(); ++k) {
    float& w = m.ps.values()[k];
    const float keep = w;
    auto central = [&](auto&& loss) {
      w = keep + h;
      const double up = loss();
      w = keep - h;
      const double down = loss();
      w = keep;
      return (up - down) / (2.0 * h);
    };
    const double constant = central(from_carried);
    EXPECT_NEAR(analytic[k], constant, 1e-3 + 5e-3 * std::fabs(constant)) << "parameter " << k;
    through_gap = std::max(through_gap, std::fabs(analytic[k] - central(through_both)));
  }
  // Truncation is real: backpropagating through window 1 as well gives other gradients.
  EXPECT_GT(through_gap, 0.05);
}

// `count` windows of `steps` tokens cut end to end from one token sequence (next-token labels).
data::Dataset windows(int64_t count, int64_t steps) {
  const std::vector<float> tok = tokens(count * steps + 1, 3);
  data::Dataset ds;
  ds.sample_shape = {steps};
  ds.positions = steps;
  ds.num_classes = CarriedModel::V;
  ds.x = Tensor({count, steps});
  for (int64_t i = 0; i < count * steps; ++i) {
    ds.x.data()[i] = tok[size_t(i)];
    ds.labels.push_back(static_cast<int32_t>(tok[size_t(i) + 1]));
  }
  return ds;
}

// In stream order, 6 windows of T in 2 streams are 2 windows of 3T: each window continues from
// the state its stream's previous one left, exactly as one forward over the longer window.
TEST(Tbptt, StreamEvaluationReadsEachStreamAsOneLongWindow) {
  CarriedModel shortw, longw(3 * CarriedModel::T);
  ASSERT_EQ(shortw.ps.values().size(), longw.ps.values().size());
  EXPECT_TRUE(
      std::equal(shortw.ps.values().begin(), shortw.ps.values().end(), longw.ps.values().begin()));
  const auto loss = loss::make_loss("cross-entropy");
  const data::Dataset six = windows(6, CarriedModel::T), two = windows(2, 3 * CarriedModel::T);
  const EvalResult zero = evaluate(shortw.model, shortw.ps, *loss, six, 2);
  const EvalResult streamed = evaluate(shortw.model, shortw.ps, *loss, six, 2, /*streams=*/true);
  const EvalResult whole = evaluate(longw.model, longw.ps, *loss, two, 2);
  EXPECT_NEAR(streamed.loss, whole.loss, 1e-6 * whole.loss);
  EXPECT_EQ(streamed.accuracy, whole.accuracy);
  EXPECT_EQ(streamed.samples, 6);
  EXPECT_GT(std::fabs(zero.loss - whole.loss), 1e-4);  // starting each window from zero differs
  // Afterwards the layers start from zero again.
  EXPECT_EQ(evaluate(shortw.model, shortw.ps, *loss, six, 2).loss, zero.loss);
}

class TbpttTrainer : public sculpt::testing::TempDirTest {
 protected:
  std::string recipe(const std::string& optim = "name = \"adam\"\nlr = 0.01") {
    std::string text;
    for (int i = 0; i < 120; ++i) text += i % 3 ? "a cat sat. " : "the dog ran! ";
    std::ofstream(path("text.txt")) << text;
    return "[data]\nsource = \"text\"\npath = \"" + path("text.txt") +
           "\"\nsteps = 16\n[[model.layers]]\ntype = \"embedding\"\ndim = 8\n[[model.layers]]\n"
           "type = \"lstm\"\nname = \"lstm1\"\nhidden = 12\n[[model.layers]]\ntype = \"gru\"\n"
           "name = \"gru2\"\nhidden = 10\n[[model.layers]]\ntype = \"linear\"\nout = 0\n[optim]\n" +
           optim + "\n[train]\nepochs = 2\nbatch_size = 8\nseed = 3\ntbptt = true\n";
  }
  // A checkpoint from the step hook after step `at` of a tbptt run.
  io::Checkpoint mid_checkpoint(int64_t at) {
    Trainer t(parse_recipe(recipe(), "test"));
    struct Stop {};
    EXPECT_THROW(t.run({.on_step =
                            [&](const StepEvent& e) {
                              if (e.step < at) return;
                              t.save_checkpoint(path("mid.safetensors"));
                              throw Stop{};
                            },
                        .on_epoch = {}}),
                 Stop);
    return io::load_checkpoint(path("mid.safetensors"));
  }
  // The DataError restore throws for `ck` (and that it changed nothing).
  std::string restore_error(const io::Checkpoint& ck) {
    Trainer t(parse_recipe(recipe(), "test"));
    try {
      t.restore(ck, "mid");
    } catch (const DataError& e) {
      EXPECT_EQ(t.step(), 0);
      return e.what();
    }
    ADD_FAILURE() << "restored";
    return "";
  }
};

// The windows in 8 streams: an epoch is as many steps as a stream has windows.
TEST_F(TbpttTrainer, StreamsSetTheStepsAndMidEpochCheckpointsHoldTheCarriedState) {
  Trainer t(parse_recipe(recipe(), "test"));
  EXPECT_EQ(t.steps_per_epoch(), t.splits().train.size() / 8);
  const io::Checkpoint ck = mid_checkpoint(3);
  ASSERT_NE(ck.find("carry.lstm1"), nullptr);
  EXPECT_EQ(ck.find("carry.lstm1")->shape, (Shape{8, 24}));  // h and c
  ASSERT_NE(ck.find("carry.gru2"), nullptr);
  EXPECT_EQ(ck.find("carry.gru2")->shape, (Shape{8, 10}));
  const auto& h = ck.find("carry.gru2")->data;
  EXPECT_TRUE(std::any_of(h.begin(), h.end(), [](float v) { return v != 0.0f; }));
  // Between epochs nothing is carried: the next epoch starts from zero.
  t.run({});
  t.save_checkpoint(path("end.safetensors"));
  EXPECT_EQ(io::load_checkpoint(path("end.safetensors")).find("carry.lstm1"), nullptr);
}

TEST_F(TbpttTrainer, ACarriedStateOfTheWrongSizeOrNoneIsRefusedByName) {
  const io::Checkpoint good = mid_checkpoint(3);
  io::Checkpoint bad = good;
  bad.tensors["carry.lstm1"] = {{8, 20}, std::vector<float>(160, 0.0f)};
  std::string e = restore_error(bad);
  EXPECT_NE(e.find("carried state 'carry.lstm1' has shape [8, 20]"), std::string::npos) << e;
  EXPECT_NE(e.find("carries [8, 24]"), std::string::npos) << e;
  bad = good;
  bad.tensors.erase("carry.gru2");
  e = restore_error(bad);
  EXPECT_NE(e.find("no carried state 'carry.gru2'"), std::string::npos) << e;
}

// Every epoch starts from zero: a run resumed between epochs (no carried state in the
// checkpoint) continues exactly as the straight run.
TEST_F(TbpttTrainer, EveryEpochStartsFromAZeroState) {
  Trainer straight(parse_recipe(recipe(), "test"));
  straight.train_epoch({});
  straight.save_checkpoint(path("epoch1.safetensors"));
  straight.train_epoch({});
  straight.save_checkpoint(path("straight.safetensors"));
  Trainer resumed(parse_recipe(recipe(), "test"));
  resumed.restore(io::load_checkpoint(path("epoch1.safetensors")), "epoch1");
  resumed.train_epoch({});
  resumed.save_checkpoint(path("resumed.safetensors"));
  expect_same_checkpoint(io::load_checkpoint(path("straight.safetensors")),
                         io::load_checkpoint(path("resumed.safetensors")));
}

// Evaluation reads its windows as streams from a zero state: the state training carries neither
// changes it nor is changed by it.
TEST_F(TbpttTrainer, EvaluationKeepsTheTrainingCarryApart) {
  Trainer t(parse_recipe(recipe("name = \"sgd\"\nlr = 0"), "test"));
  const EvalResult before = t.evaluate_split(t.splits().val);
  int64_t steps = 0;
  t.train_steps(3, t.schedule(), [&](const StepResult&) { return ++steps < 3; });
  const auto* lstm = dynamic_cast<const nn::Recurrent*>(&t.model().layer(1));
  ASSERT_NE(lstm, nullptr);
  const std::vector<float> carry(lstm->state().begin(), lstm->state().end());
  EXPECT_NE(carry[0], 0.0f);  // training carries a state...
  const EvalResult after = t.evaluate_split(t.splits().val);
  EXPECT_EQ(before.loss, after.loss);  // ...that evaluation does not start from...
  EXPECT_EQ(before.accuracy, after.accuracy);
  EXPECT_TRUE(std::equal(carry.begin(), carry.end(), lstm->state().begin()));  // ...nor changes
  EXPECT_EQ(after.samples, t.splits().val.size());  // and every window is scored
}

}  // namespace
}  // namespace sculpt::train

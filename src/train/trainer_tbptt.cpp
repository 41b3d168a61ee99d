// The trainer's truncated backpropagation through time (train.tbptt): the training windows in
// stream order (data::Batcher::use_streams), every recurrent layer's state carried from one
// training batch to the next (zero at every epoch start; no gradient flows into it), and that
// state in checkpoints taken inside an epoch, so a resumed epoch continues from it exactly.
// Evaluation then reads its windows as train.batch_size streams too, each window continuing from
// the state the previous one of its stream left (as the model was trained), and leaves the
// training carry as it found it; without train.tbptt every window starts from zero.
#include <fmt/format.h>

#include "core/error.h"
#include "nn/layers/recurrent.h"
#include "train/trainer.h"

namespace sculpt::train {

namespace {

std::string carry_name(const nn::Recurrent& r) { return "carry." + r.name(); }

}  // namespace

void Trainer::setup_tbptt() {
  if (!recipe_.train.tbptt) return;
  for (size_t i = 0; i < model_.size(); ++i)
    if (auto* r = dynamic_cast<nn::Recurrent*>(&model_.layer(i))) carried_.push_back(r);
  SCULPT_CHECK(!carried_.empty() && splits_.train.positions > 1, ConfigError,
               "train.tbptt needs text data and a model with an lstm or gru layer", "train.tbptt",
               "set train.tbptt = false");
  batcher_->use_streams();
  set_carry(true);
}

void Trainer::set_carry(bool on) {
  for (nn::Recurrent* r : carried_) r->carry_state(on);
}

void Trainer::start_carry() {
  for (size_t i = 0; i < carried_.size(); ++i) {
    if (resume_carry_.empty())
      carried_[i]->reset_state();
    else
      carried_[i]->set_state(resume_carry_[i].data(), batcher_->batch_size());
  }
  resume_carry_.clear();
}

EvalResult Trainer::evaluate_split(const data::Dataset& ds) {
  if (carried_.empty()) return evaluate(model_, params_, *loss_, ds, recipe_.train.eval_batch_size);
  // As many streams as training reads (train.batch_size), so they are as long as its streams.
  const int64_t batch = recipe_.train.batch_size;
  std::vector<std::vector<float>> carry;
  for (const nn::Recurrent* r : carried_) carry.emplace_back(r->state().begin(), r->state().end());
  const EvalResult result = evaluate(model_, params_, *loss_, ds, batch, /*streams=*/true);
  for (size_t i = 0; i < carried_.size(); ++i)
    carried_[i]->set_state(carry[i].data(), model_.max_batch());
  return result;
}

void Trainer::carry_tensors(std::vector<io::NamedTensor>& out) const {
  if (!in_epoch_) return;  // between epochs the next epoch starts from zero
  for (const nn::Recurrent* r : carried_)
    out.push_back({carry_name(*r), {batcher_->batch_size(), r->state_width()}, r->state().data()});
}

void Trainer::check_carry(const io::Checkpoint& ck, const TrainState& state,
                          const std::string& where) const {
  if (carried_.empty() || !state.progress) return;
  for (const nn::Recurrent* r : carried_) {
    const std::string name = carry_name(*r);
    const io::StoredTensor* t = ck.find(name);
    SCULPT_CHECK(t, DataError,
                 fmt::format("the checkpoint was taken inside epoch {} but holds no carried state "
                             "'{}' for layer '{}' (train.tbptt)",
                             state.epoch + 1, name, r->name()),
                 where, "resume from an intact checkpoint, e.g. the run's last.safetensors");
    const Shape want{batcher_->batch_size(), r->state_width()};
    SCULPT_CHECK(t->shape == want, DataError,
                 fmt::format("the checkpoint's carried state '{}' has shape {}, but layer '{}' "
                             "carries {} (train.batch_size streams of its state)",
                             name, to_string(t->shape), r->name(), to_string(want)),
                 where, "the checkpoint is from another model or batch size, or damaged");
  }
}

void Trainer::restore_carry(const io::Checkpoint& ck, const TrainState& state) {
  resume_carry_.clear();
  if (carried_.empty() || !state.progress) return;
  for (const nn::Recurrent* r : carried_) resume_carry_.push_back(ck.find(carry_name(*r))->data);
}

}  // namespace sculpt::train

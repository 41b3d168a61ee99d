// The export of a trainer's model: surgery, then the parameters in the model's order.
#include "train/export.h"

#include <fmt/format.h>

#include "core/error.h"
#include "infer/fold.h"

namespace sculpt::train {

namespace {

std::string input_format(DataSource source) {
  if (source == DataSource::kCsv) return "csv";
  if (source == DataSource::kText) return "text";
  return synthetic(source) ? "raw" : "idx";
}

}  // namespace

ExportSource export_from_trainer(const Trainer& t, const std::string& source, bool surgery) {
  const RecipeConfig& r = t.recipe();
  const data::Splits& sp = t.splits();
  const nn::Model& built = t.model();
  const nn::ModelSpec spec = prune::named_spec(built, model_spec(r.model, built.outputs()));
  prune::SurgeryResult cut =
      surgery ? prune::remove_dead_units(spec, built.input_shape(), weights_of(t))
              : prune::SurgeryResult{spec, weights_of(t), {}, {}};

  ExportSource out;
  out.surgery = std::move(cut.changes);
  out.notes = std::move(cut.notes);
  infer::ExportHeader& h = out.model.header;
  h.spec = std::move(cut.spec);
  h.input = built.input_shape();
  h.task = data::task_name(sp.train.task);
  h.outputs = built.outputs();
  h.norm_mean = sp.norm_mean;
  h.norm_std = sp.norm_std;
  h.input_format = input_format(r.data.source);
  h.info = {{"source", source},
            {"recipe", to_toml(r)},
            {"epoch", std::to_string(t.epoch())},
            {"writer", "sculpt 0.1.0"}};
  if (r.data.source == DataSource::kText) h.vocabulary = sp.vocabulary;

  // The parameter order of the (possibly smaller) model: what a loader declares.
  nn::Model small = nn::Model::build(h.spec, h.input);
  ParamStore ps;
  small.declare(ps);
  for (const ParamEntry& e : ps.entries()) {
    const io::StoredTensor* st = cut.checkpoint.find(e.name);
    SCULPT_CHECK(
        st && st->shape == e.shape, ShapeError,
        fmt::format("surgery left no tensor '{}' of shape [{}]", e.name, fmt::join(e.shape, ", ")),
        source);
    out.model.tensors.push_back({e.name, e.shape, st->data});
  }
  out.folded = infer::fold_batch_norms(out.model);
  return out;
}

}  // namespace sculpt::train

// Surgery: finds the dead units from the masks, folds their constant outputs into the next
// layer's bias, then slices every per-parameter tensor of the checkpoint and shrinks the spec.
#include "prune/surgery.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

#include "core/error.h"
#include "core/param_store.h"
#include "core/tensor.h"
#include "io/checkpoint.h"
#include "prune/structure.h"

namespace sculpt::prune {

namespace {

// What survives of one parameter viewed as a matrix [rows, cols]: a weight is [units, fan_in],
// anything else [size, 1]. An empty index list keeps everything.
struct Keep {
  int64_t rows = 0, cols = 1;
  std::vector<bool> row_gone, col_gone;       // while planning
  std::vector<int64_t> live_rows, live_cols;  // ascending
  Shape shape;                                // the parameter's new shape
};

// What surgery does to one channel group.
struct GroupPlan {
  std::vector<int64_t> removed;  // dead units removed, ascending
  std::vector<double> delta;     // added to the reader's bias (a chain's fold), or empty
};

const io::StoredTensor& param(const io::Checkpoint& ck, const ParamStore& ps, size_t i) {
  return *ck.find(ps.entry(i).name);  // present: check_params ran first
}

void check_params(const ParamStore& ps, const io::Checkpoint& ck) {
  std::vector<io::TensorSpec> expected;
  for (const ParamEntry& e : ps.entries()) expected.push_back({e.name, e.shape});
  // Non-parameter tensors are expected (optimizer state, masks, statistics): only missing and
  // misshapen parameters are errors.
  io::compare_tensors(ck, expected, [](const std::string&) { return true; })
      .throw_if_any("the checkpoint does not match the model", "",
                    "was it saved from a different model or recipe?");
}

// The tensor "mask.<param>" when the checkpoint has one, checked against the parameter's size.
const float* mask_of(const io::Checkpoint& ck, const ParamEntry& e) {
  const io::StoredTensor* m = ck.find("mask." + e.name);
  if (!m) return nullptr;
  SCULPT_CHECK(
      static_cast<int64_t>(m->data.size()) == e.size, DataError,
      fmt::format("mask.{} has {} entries but {} has {}", e.name, m->data.size(), e.name, e.size));
  return m->data.data();
}

// Units of group `g` whose weight rows are masked in every producer; none without masks.
std::vector<int64_t> dead_units(const Structure& s, const ChannelGroup& g, const ParamStore& ps,
                                const io::Checkpoint& ck) {
  std::vector<const float*> masks;
  for (const size_t l : g.producers) {
    masks.push_back(mask_of(ck, ps.entry(s.layers[l].weight)));
    if (!masks.back()) return {};
  }
  std::vector<int64_t> dead;
  for (int64_t u = 0; u < g.units; ++u) {
    bool all = true;
    for (size_t k = 0; k < masks.size() && all; ++k) {
      const PrunableLayer& p = s.layers[g.producers[k]];
      for (int64_t gate = 0; gate < p.gates && all; ++gate) {
        const float* row = masks[k] + p.row_start(u, gate);
        all = std::all_of(row, row + p.fan_in, [](float m) { return m == 0.0f; });
      }
    }
    if (all) dead.push_back(u);
  }
  return dead;
}

// What each unit of `l` feeds into `next` when its weight row is zero: its bias at every output
// position, carried through the channel-wise layers in between (relu, pooling, flatten, dropout
// in eval mode). It does not depend on the sample, so one forward of one "sample" holding the
// biases gives it for all units at once: [l.units, next's inputs per unit of l].
AlignedVector<float> idle_outputs(nn::Model& model, ParamStore& ps, const PrunableLayer& l,
                                  const PrunableLayer& next, const io::Checkpoint& ck) {
  AlignedVector<float> cur(static_cast<size_t>(l.units * l.out_spatial), 0.0f);
  if (l.bias) {
    const std::vector<float>& b = param(ck, ps, *l.bias).data;
    for (int64_t u = 0; u < l.units; ++u)
      std::fill_n(cur.begin() + u * l.out_spatial, l.out_spatial, b[static_cast<size_t>(u)]);
  }
  for (size_t i = l.layer_index + 1; i < next.layer_index; ++i) {
    nn::Layer& layer = model.layer(i);
    AlignedVector<float> out(static_cast<size_t>(numel(layer.out_shape())), 0.0f);
    layer.forward(ps, cur.data(), out.data(), 1, nn::Pass{});
    cur = std::move(out);
  }
  return cur;
}

// Adds to `delta` what unit u's idle output `a` (n values) adds to each output of `next`, whose
// weight columns [u * cols, (u + 1) * cols) read it. False when a per-unit bias cannot express
// it: a padded Conv2d sees the constant and the zero border, a non-uniform map varies over the
// output positions, and a masked bias entry would be zeroed again by the trainer.
bool fold(const PrunableLayer& next, const nn::Model& model, const io::Checkpoint& ck,
          const ParamStore& ps, int64_t u, int64_t cols, const float* a, int64_t n,
          std::vector<double>& delta) {
  if (!next.bias) return false;
  const kernels::ConvGeometry* conv = model.layer(next.layer_index).traits().conv;
  const bool uniform = std::all_of(a, a + n, [&](float v) { return v == a[0]; });
  if (conv && (conv->pad != 0 || !uniform)) return false;
  if (!conv && n != cols) return false;  // a Linear reads each idle value through one column
  const float* w = param(ck, ps, next.weight).data.data();
  const float* bias_mask = mask_of(ck, ps.entry(*next.bias));
  std::vector<double> add(static_cast<size_t>(next.rows()), 0.0);
  for (int64_t o = 0; o < next.rows(); ++o) {
    const float* wu = w + o * next.fan_in + u * cols;
    double s = 0.0;
    for (int64_t j = 0; j < cols; ++j) s += double(wu[j]) * double(conv ? a[0] : a[j]);
    if (s != 0.0 && bias_mask && bias_mask[o] == 0.0f) return false;
    add[static_cast<size_t>(o)] = s;
  }
  for (size_t o = 0; o < add.size(); ++o) delta[o] += add[o];
  return true;
}

// Whether every reader's columns of unit u are all zero, so that its output reaches nothing.
// Structured pruning masks (hence zeroes) them along with the unit's rows; only a row emptied
// some other way (unstructured pruning) leaves them and needs a fold.
bool unread(const Structure& s, const ChannelGroup& g, const ParamStore& ps,
            const io::Checkpoint& ck, int64_t u) {
  for (const ChannelReader& r : g.readers) {
    const PrunableLayer& q = s.layers[r.layer];
    const float* w = param(ck, ps, q.weight).data.data();
    for (int64_t o = 0; o < q.rows(); ++o) {
      const float* wu = w + o * q.fan_in + r.first + u * r.spatial;
      if (!std::all_of(wu, wu + r.spatial, [](float v) { return v == 0.0f; })) return false;
    }
  }
  return true;
}

std::string producer_names(const Structure& s, const ChannelGroup& g) {
  std::string out;
  for (size_t k = 0; k < g.producers.size(); ++k)
    if (k == 0 || s.layers[g.producers[k]].name != s.layers[g.producers[k - 1]].name)
      out += (out.empty() ? "" : "+") + s.layers[g.producers[k]].name;
  return out;
}

// Which dead units of group `g` go, and (a chain) what their idle outputs add to the reader's
// bias. Off a chain a dead unit goes only when nothing reads it.
GroupPlan plan_group(nn::Model& model, ParamStore& ps, const Structure& s, const ChannelGroup& g,
                     const io::Checkpoint& ck, std::vector<std::string>& notes) {
  GroupPlan plan;
  if (!g.removable) return plan;
  const std::vector<int64_t> dead = dead_units(s, g, ps, ck);
  if (dead.empty()) return plan;
  SCULPT_CHECK(static_cast<int64_t>(dead.size()) < g.units, ShapeError,
               fmt::format("cannot remove all {} units of {}", g.units, producer_names(s, g)), "",
               "every unit's weights are pruned: prune this layer less or exclude it");
  if (!g.chain) {
    for (const int64_t u : dead) {
      if (unread(s, g, ps, ck, u))
        plan.removed.push_back(u);
      else
        notes.push_back(
            fmt::format("{} unit {}: kept, its weights are pruned but the layers "
                        "after it still read it",
                        producer_names(s, g), u));
    }
    return plan;
  }
  const PrunableLayer& l = s.layers[g.producers[0]];
  const ChannelReader& r = g.readers[0];
  const PrunableLayer& next = s.layers[r.layer];
  const AlignedVector<float> idle = idle_outputs(model, ps, l, next, ck);
  const int64_t n = static_cast<int64_t>(idle.size()) / l.units;
  plan.delta.assign(static_cast<size_t>(next.rows()), 0.0);
  for (const int64_t u : dead) {
    const float* a = idle.data() + u * n;
    const bool silent =
        std::all_of(a, a + n, [](float v) { return v == 0.0f; }) || unread(s, g, ps, ck, u);
    if (silent || fold(next, model, ck, ps, u, r.spatial, a, n, plan.delta)) {
      plan.removed.push_back(u);
    } else {
      notes.push_back(
          fmt::format("{} unit {}: kept, its constant output (first value {}) "
                      "reaches {} in a way its bias cannot absorb",
                      l.name, u, a[0], next.name));
    }
  }
  return plan;
}

// Marks entries [first + u * span, first + (u + 1) * span) of `gone` for every removed u.
void mark(std::vector<bool>& gone, const std::vector<int64_t>& removed, int64_t first,
          int64_t span) {
  for (const int64_t u : removed) std::fill_n(gone.begin() + first + u * span, span, true);
}

std::vector<int64_t> live(const std::vector<bool>& gone) {
  std::vector<int64_t> out;
  if (std::find(gone.begin(), gone.end(), true) == gone.end()) return out;  // keep everything
  for (size_t i = 0; i < gone.size(); ++i)
    if (!gone[i]) out.push_back(static_cast<int64_t>(i));
  return out;
}

// One Keep per ParamStore entry, from the plans.
std::vector<Keep> make_keeps(const ParamStore& ps, const Structure& s,
                             const std::vector<GroupPlan>& plans) {
  std::vector<Keep> keeps(ps.count());
  for (size_t i = 0; i < ps.count(); ++i) keeps[i] = {ps.entry(i).size, 1, {}, {}, {}, {}, {}};
  for (const PrunableLayer& l : s.layers) {
    keeps[l.weight].rows = l.rows();
    keeps[l.weight].cols = l.fan_in;
  }
  for (Keep& k : keeps) {
    k.row_gone.assign(static_cast<size_t>(k.rows), false);
    k.col_gone.assign(static_cast<size_t>(k.cols), false);
  }
  for (size_t gi = 0; gi < s.groups.size(); ++gi) {
    const ChannelGroup& g = s.groups[gi];
    const std::vector<int64_t>& removed = plans[gi].removed;
    if (removed.empty()) continue;
    for (const size_t l : g.producers) {
      const PrunableLayer& p = s.layers[l];
      for (int64_t k = 0; k < p.gates; ++k) {  // a recurrent unit's row in every gate block
        mark(keeps[p.weight].row_gone, removed, k * p.units, 1);
        if (p.bias) mark(keeps[*p.bias].row_gone, removed, k * p.units, 1);
      }
    }
    for (const ChannelFollower& f : g.followers)
      for (const size_t t : f.params) mark(keeps[t].row_gone, removed, f.first, f.spatial);
    for (const ChannelReader& r : g.readers)
      mark(keeps[s.layers[r.layer].weight].col_gone, removed, r.first, r.spatial);
  }
  for (size_t i = 0; i < ps.count(); ++i) {
    Keep& k = keeps[i];
    k.live_rows = live(k.row_gone);
    k.live_cols = live(k.col_gone);
    k.shape = ps.entry(i).shape;
    const int64_t rows = k.live_rows.empty() ? k.rows : int64_t(k.live_rows.size());
    const int64_t cols = k.live_cols.empty() ? k.cols : int64_t(k.live_cols.size());
    if (!k.shape.empty()) k.shape[0] = rows;
    // [out, in] or [out, c, kh, kw]: the columns are in (or c * kh * kw), so dim 1 scales.
    if (k.shape.size() > 1) k.shape[1] = k.shape[1] * cols / k.cols;
  }
  return keeps;
}

// The parameter a checkpoint tensor belongs to: the one it is named after, else the longest
// parameter name it ends in after a '.' (so "opt.m.x.fc1.weight" picks "x.fc1.weight" over
// "fc1.weight" if a layer is really named "x.fc1").
std::optional<size_t> owner(const std::string& tensor, const ParamStore& ps) {
  if (auto i = ps.find(tensor)) return i;
  std::optional<size_t> best;
  for (size_t i = 0; i < ps.count(); ++i) {
    const std::string& p = ps.entry(i).name;
    const bool match = tensor.size() > p.size() && tensor.ends_with(p) &&
                       tensor[tensor.size() - p.size() - 1] == '.';
    if (match && (!best || p.size() > ps.entry(*best).name.size())) best = i;
  }
  return best;
}

// `t` restricted to k's rows and columns. A tensor shaped like its parameter gets the new
// parameter shape; one stored flat (same entry count) stays flat.
io::StoredTensor slice(const std::string& name, const io::StoredTensor& t, const Keep& k,
                       const ParamEntry& e) {
  SCULPT_CHECK(numel(t.shape) == e.size, DataError,
               fmt::format("tensor '{}' has {} entries but parameter {} has {}; cannot slice it "
                           "like the parameter",
                           name, numel(t.shape), e.name, e.size));
  if (k.live_rows.empty() && k.live_cols.empty()) return t;
  io::StoredTensor out;
  const auto for_each = [](const std::vector<int64_t>& live, int64_t n, auto&& f) {
    if (live.empty()) {
      for (int64_t i = 0; i < n; ++i) f(i);
    } else {
      for (const int64_t i : live) f(i);
    }
  };
  for_each(k.live_rows, k.rows, [&](int64_t r) {
    for_each(k.live_cols, k.cols,
             [&](int64_t c) { out.data.push_back(t.data[static_cast<size_t>(r * k.cols + c)]); });
  });
  out.shape = t.shape == e.shape ? k.shape : Shape{static_cast<int64_t>(out.data.size())};
  return out;
}

// The spec, named, with the new unit counts; records the changes.
nn::ModelSpec resize_spec(nn::ModelSpec spec, const Structure& s,
                          const std::vector<GroupPlan>& plans, const std::vector<Keep>& keeps,
                          std::vector<UnitChange>& changes) {
  for (const PrunableLayer& l : s.layers) {
    nn::LayerSpec& ls = spec.layers[l.layer_index];
    const std::vector<int64_t>& removed = plans[l.group].removed;
    const bool again = !changes.empty() && changes.back().layer == l.name;  // weight_hh
    if (!removed.empty() && !again) {
      const int64_t after = l.units - static_cast<int64_t>(removed.size());
      changes.push_back({l.name, l.units, after});
      ls.args[l.units_arg] = static_cast<double>(after);
    }
    // A Linear normally infers `in`; when the recipe spelled it out it must follow the cut.
    const Keep& k = keeps[l.weight];
    auto in = ls.args.find("in");
    if (ls.type == "linear" && in != ls.args.end() && in->second != 0 && !k.live_cols.empty())
      in->second = static_cast<double>(k.live_cols.size());
  }
  return spec;
}

}  // namespace

nn::ModelSpec named_spec(const nn::Model& built, const nn::ModelSpec& spec) {
  SCULPT_CHECK(
      built.size() == spec.layers.size(), ConfigError,
      fmt::format("the model has {} layers but the spec {}", built.size(), spec.layers.size()));
  nn::ModelSpec out = spec;
  for (size_t i = 0; i < built.size(); ++i) out.layers[i].name = built.layer(i).name();
  return out;
}

SurgeryResult remove_dead_units(const nn::ModelSpec& spec, const Shape& input,
                                const io::Checkpoint& ck) {
  nn::Model model = nn::Model::build(spec, input);
  ParamStore ps;
  model.declare(ps);
  ps.finalize();  // idle_outputs runs layers, which take the store (its values are unused)
  check_params(ps, ck);
  const Structure st = prunable_structure(model, ps);
  model.reserve(1);

  SurgeryResult r;
  std::vector<GroupPlan> plans;
  for (const ChannelGroup& g : st.groups)
    plans.push_back(plan_group(model, ps, st, g, ck, r.notes));
  std::map<size_t, const std::vector<double>*> deltas;  // bias entry -> what to add to it
  for (size_t gi = 0; gi < st.groups.size(); ++gi) {
    const ChannelGroup& g = st.groups[gi];
    if (plans[gi].delta.empty() || plans[gi].removed.empty()) continue;
    const PrunableLayer& reader = st.layers[g.readers[0].layer];
    if (reader.bias) deltas[*reader.bias] = &plans[gi].delta;
  }

  const std::vector<Keep> keeps = make_keeps(ps, st, plans);
  r.checkpoint.metadata = ck.metadata;
  for (const auto& [name, t] : ck.tensors) {
    const std::optional<size_t> p = owner(name, ps);
    if (!p) {
      r.checkpoint.tensors.emplace(name, t);
      continue;
    }
    io::StoredTensor folded;
    const io::StoredTensor* src = &t;
    // Only the parameter itself absorbs the fold: its optimizer state and mask describe
    // gradients and pruning, which the fold does not change.
    if (auto d = deltas.find(*p); d != deltas.end() && name == ps.entry(*p).name) {
      folded = t;
      for (size_t o = 0; o < folded.data.size(); ++o)
        folded.data[o] = static_cast<float>(double(folded.data[o]) + (*d->second)[o]);
      src = &folded;
    }
    r.checkpoint.tensors.emplace(name, slice(name, *src, keeps[*p], ps.entry(*p)));
  }
  r.spec = resize_spec(named_spec(model, spec), st, plans, keeps, r.changes);
  return r;
}

}  // namespace sculpt::prune

// Scores -> mask. Every granularity reduces to "rank items, prune the lowest k": items are
// entries (unstructured), entries within one group of m (N:M) or units (neuron/channel).
// Already-pruned items rank lowest, so masks only grow.
#include "prune/select.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace sculpt::prune {

namespace {

constexpr float kPruned = -std::numeric_limits<float>::infinity();

struct Item {
  float score;
  int64_t index;  // arena index (entries) or unit number
  size_t layer;   // prunable layer (entries) or channel group (units)
};

// Lower score first; ties by position, so the result does not depend on sort internals.
bool lower(const Item& a, const Item& b) {
  return a.score < b.score ||
         (a.score == b.score && (a.layer < b.layer || (a.layer == b.layer && a.index < b.index)));
}

int64_t count_for(double sparsity, int64_t n) {
  return std::clamp<int64_t>(static_cast<int64_t>(std::llround(sparsity * double(n))), 0, n);
}

// The lowest `k` items (all of them if k >= size), moved to the front.
void lowest(std::vector<Item>& items, int64_t k) {
  if (k <= 0 || k >= int64_t(items.size())) return;
  std::nth_element(items.begin(), items.begin() + k, items.end(), lower);
}

double layer_target(const std::map<std::string, double>& table, const std::string& name,
                    double sparsity) {
  auto it = table.find(name);
  return it == table.end() ? sparsity : it->second;
}

// A float's bits mapped to an unsigned key in the same order (-inf lowest; -0 taken as +0, which
// compares equal to it; NaN never comes: scores of finite weights).
uint32_t order_key(float v) {
  v += 0.0f;  // -0 -> +0
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

// The key of the k-th lowest of `keys` (1 <= k <= size) and how many keys lie below it: a
// histogram of the top 16 bits finds its bucket, one of the low 16 bits within that bucket the
// key. Two passes and no sort.
std::pair<uint32_t, int64_t> kth_key(const std::vector<uint32_t>& keys, int64_t k) {
  std::vector<uint32_t> hist(size_t{1} << 16, 0);
  for (const uint32_t key : keys) ++hist[key >> 16];
  int64_t below = 0;
  uint32_t high = 0;
  for (; below + hist[high] < k; ++high) below += hist[high];
  std::fill(hist.begin(), hist.end(), 0);
  for (const uint32_t key : keys)
    if ((key >> 16) == high) ++hist[key & 0xffffu];
  uint32_t low = 0;
  for (; below + hist[low] < k; ++low) below += hist[low];
  return {(high << 16) | low, below};
}

// The k lowest entries of one ranking, pruned: entries of `ranges` (arena [begin, end), in tie
// order: by layer, then arena index), each scoring scores[i], or -inf when already pruned. The
// already pruned count toward k; of the rest, every entry below the cut (the score of the
// lowest still needed) goes, then as many of those equal to it as are still needed, in tie
// order: the same entries as sorting by (score, layer, index) and taking the first k.
void prune_lowest(const std::vector<std::pair<int64_t, int64_t>>& ranges,
                  std::span<const float> scores, int64_t k, float* keep) {
  if (k <= 0) return;
  int64_t size = 0;
  for (const auto& [b, e] : ranges) size += e - b;
  // The live entries' keys, packed without branches.
  std::vector<uint32_t> keys(static_cast<size_t>(size));
  int64_t live = 0;
  for (const auto& [b, e] : ranges)
    for (int64_t i = b; i < e; ++i) {
      keys[size_t(live)] = order_key(scores[size_t(i)]);
      live += keep[i] != 0.0f;
    }
  const int64_t need = k - (size - live);
  if (need <= 0) return;
  keys.resize(size_t(live));
  uint32_t cut = ~0u;  // need == live: every live entry goes
  int64_t ties = 0;
  if (need < live) {
    const auto [c, below] = kth_key(keys, need);
    cut = c;
    ties = need - below;
  }
  for (const auto& [b, e] : ranges)
    for (int64_t i = b; i < e; ++i) {
      const uint32_t key = order_key(scores[size_t(i)]);
      const bool alive = keep[i] != 0.0f;
      if (alive && key == cut && ties > 0) {
        keep[i] = 0.0f;
        --ties;
      }
      keep[i] = alive && key < cut ? 0.0f : keep[i];
    }
}

// Unstructured: items are the candidate entries themselves.
void select_entries(const std::vector<PrunableLayer>& layers, const ParamStore& ps,
                    const Candidates& cand, std::span<const float> scores, const PruneConfig& cfg,
                    double sparsity, float* keep) {
  const auto table = parse_layer_table(cfg.layers, "prune.layers");
  const bool global = cfg.scope == prune::Scope::kGlobal;
  // Each ranking's arena ranges in tie order (a layer's tensors by arena offset) and its size.
  std::vector<std::vector<std::pair<int64_t, int64_t>>> groups(global ? 1 : layers.size());
  std::vector<int64_t> sizes(groups.size(), 0);
  for (size_t l = 0; l < layers.size(); ++l) {
    std::vector<std::pair<int64_t, int64_t>> own;
    auto add = [&](size_t tensor) {
      const ParamEntry& e = ps.entry(tensor);
      own.emplace_back(e.offset, e.offset + e.size);
      sizes[global ? 0 : l] += e.size;
    };
    if (cand.weight[l]) add(layers[l].weight);
    if (cand.bias[l]) add(*layers[l].bias);
    std::sort(own.begin(), own.end());
    auto& g = groups[global ? 0 : l];
    g.insert(g.end(), own.begin(), own.end());
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    if (sizes[g] == 0) continue;
    if (cfg.threshold >= 0.0) {
      for (const auto& [b, e] : groups[g])
        for (int64_t i = b; i < e; ++i)
          if ((keep[i] == 0.0f ? kPruned : scores[size_t(i)]) <= cfg.threshold) keep[i] = 0.0f;
      continue;
    }
    const double s = global ? sparsity : layer_target(table, layers[g].name, sparsity);
    prune_lowest(groups[g], scores, count_for(s, sizes[g]), keep);
  }
}

// N:M: in each run of m consecutive inputs of a row, the m - n lowest entries go.
void select_n_m(const std::vector<PrunableLayer>& layers, const ParamStore& ps,
                const Candidates& cand, std::span<const float> scores, const PruneConfig& cfg,
                float* keep) {
  std::vector<Item> group(size_t(cfg.m));
  for (size_t l = 0; l < layers.size(); ++l) {
    if (!cand.weight[l]) continue;
    const ParamEntry& e = ps.entry(layers[l].weight);
    for (int64_t g = e.offset; g < e.offset + e.size; g += cfg.m) {
      for (int64_t j = 0; j < cfg.m; ++j)
        group[size_t(j)] = {keep[g + j] == 0.0f ? kPruned : scores[size_t(g + j)], g + j, l};
      lowest(group, cfg.m - cfg.n);
      for (int64_t j = 0; j < cfg.m - cfg.n; ++j) keep[group[size_t(j)].index] = 0.0f;
    }
  }
}

// Whether unit u of layer p is already entirely pruned (every gate's row).
bool dead(const PrunableLayer& p, const ParamStore& ps, const float* keep, int64_t u) {
  for (int64_t k = 0; k < p.gates; ++k) {
    const float* row = keep + ps.entry(p.weight).offset + p.row_start(u, k);
    if (!std::all_of(row, row + p.fan_in, [](float v) { return v == 0.0f; })) return false;
  }
  return true;
}

// Masks unit u of a channel group: its producers' weight rows and bias entries, its followers'
// trainable per-channel entries (a BatchNorm's scale and shift; the running statistics are the
// layer's own) and its readers' columns.
void kill_unit(const Structure& s, const ParamStore& ps, const ChannelGroup& g, int64_t u,
               float* keep) {
  for (const size_t l : g.producers) {
    const PrunableLayer& p = s.layers[l];
    for (int64_t k = 0; k < p.gates; ++k) {
      std::fill_n(keep + ps.entry(p.weight).offset + p.row_start(u, k), p.fan_in, 0.0f);
      if (p.bias) keep[ps.entry(*p.bias).offset + k * p.units + u] = 0.0f;
    }
  }
  for (const ChannelFollower& f : g.followers)
    for (const size_t t : f.params)
      if (ps.entry(t).flags.trainable)
        std::fill_n(keep + ps.entry(t).offset + f.first + u * f.spatial, f.spatial, 0.0f);
  for (const ChannelReader& r : g.readers) {
    const PrunableLayer& q = s.layers[r.layer];
    float* w = keep + ps.entry(q.weight).offset;
    for (int64_t o = 0; o < q.rows(); ++o)
      std::fill_n(w + o * q.fan_in + r.first + u * r.spatial, r.spatial, 0.0f);
  }
}

// Neuron/channel: a unit of a group scores the mean (l1) or root mean square (l2) of its
// producers' entries' scores, comparable across layers of different fan-in. Each group keeps at
// least one unit.
void select_units(const Structure& s, const ParamStore& ps, const Candidates& cand,
                  std::span<const float> scores, const PruneConfig& cfg, double sparsity,
                  float* keep) {
  const auto table = parse_layer_table(cfg.layers, "prune.layers");
  const bool global = cfg.scope == prune::Scope::kGlobal;
  const bool l2 = cfg.group_norm == prune::GroupNorm::kL2;
  std::vector<std::vector<Item>> groups(global ? 1 : s.groups.size());
  for (size_t gi = 0; gi < s.groups.size(); ++gi) {
    const ChannelGroup& g = s.groups[gi];
    const bool in = std::all_of(g.producers.begin(), g.producers.end(),
                                [&](size_t l) { return cand.weight[l]; });
    if (!in) continue;
    for (int64_t u = 0; u < g.units; ++u) {
      double acc = 0.0;
      int64_t n = 0;
      bool all_dead = true;
      for (const size_t l : g.producers) {
        const PrunableLayer& p = s.layers[l];
        for (int64_t k = 0; k < p.gates; ++k) {
          const float* row = scores.data() + ps.entry(p.weight).offset + p.row_start(u, k);
          for (int64_t j = 0; j < p.fan_in; ++j) acc += l2 ? double(row[j]) * row[j] : row[j];
        }
        n += p.gates * p.fan_in;
        all_dead = all_dead && dead(p, ps, keep, u);
      }
      acc /= double(n);
      const float score = all_dead ? kPruned : l2 ? float(std::sqrt(acc)) : float(acc);
      groups[global ? 0 : gi].push_back({score, u, gi});
    }
  }
  // A group's sparsity in local scope: the table's entry for the first of its producers named
  // there, else the run's.
  const auto target = [&](const ChannelGroup& g) {
    for (const size_t l : g.producers)
      if (table.contains(s.layers[l].name)) return table.at(s.layers[l].name);
    return sparsity;
  };
  std::vector<int64_t> removed(s.groups.size(), 0);
  for (auto& items : groups) {
    if (items.empty()) continue;
    const double frac = global ? sparsity : target(s.groups[items.front().layer]);
    const int64_t k = count_for(frac, int64_t(items.size()));
    std::sort(items.begin(), items.end(), lower);
    int64_t done = 0;
    for (const Item& it : items) {
      if (done == k) break;
      if (removed[it.layer] + 1 >= s.groups[it.layer].units) continue;
      kill_unit(s, ps, s.groups[it.layer], it.index, keep);
      ++removed[it.layer];
      ++done;
    }
  }
}

}  // namespace

Candidates candidates(const Structure& s, const ParamStore& ps, const PruneConfig& cfg) {
  const std::vector<PrunableLayer>& layers = s.layers;
  SCULPT_CHECK(!layers.empty(), ConfigError, "the model has no layer with prunable weights",
               "prune", "linear, conv2d, lstm and gru layers prune; embeddings and norms do not");
  auto known = [&](const std::string& name, const std::string& key) {
    const bool ok = std::any_of(layers.begin(), layers.end(),
                                [&](const PrunableLayer& p) { return p.name == name; });
    SCULPT_CHECK(ok, ConfigError, fmt::format("unknown layer '{}'", name), key,
                 fmt::format("prunable layers: {}", layer_names(layers)));
  };
  const std::vector<std::string> excluded = split_names(cfg.exclude);
  for (const std::string& name : excluded) known(name, "prune.exclude");
  for (const auto& [name, s] : parse_layer_table(cfg.layers, "prune.layers"))
    known(name, "prune.layers");

  Candidates c;
  for (size_t l = 0; l < layers.size(); ++l) {
    const PrunableLayer& p = layers[l];
    const bool out = std::find(excluded.begin(), excluded.end(), p.name) != excluded.end();
    bool w = !out && ps.entry(p.weight).flags.prunable;
    if (structured(cfg) && !s.groups[p.group].removable) w = false;
    c.weight.push_back(w);
    c.bias.push_back(!out && cfg.biases && !structured(cfg) && p.bias.has_value());
    if (w && cfg.granularity == prune::Granularity::kNM) {
      SCULPT_CHECK(p.fan_in % cfg.m == 0, ConfigError,
                   fmt::format("n:m with m = {} does not divide the {} inputs per unit of '{}'",
                               cfg.m, p.fan_in, p.name),
                   "prune.m",
                   fmt::format("exclude '{}' or pick an m that divides {}", p.name, p.fan_in));
    }
  }
  SCULPT_CHECK(std::find(c.weight.begin(), c.weight.end(), true) != c.weight.end(), ConfigError,
               "no layer is left to prune", "prune.exclude",
               fmt::format("prunable layers: {}", layer_names(layers)));
  return c;
}

void select(const Structure& s, ParamStore& ps, std::span<const float> scores,
            const PruneConfig& cfg, double sparsity, Masks& masks) {
  SCULPT_CHECK(sparsity >= 0.0 && sparsity < 1.0, ConfigError,
               fmt::format("sparsity must be in [0, 1), got {}", sparsity), "prune.sparsity",
               "0.9 prunes 90% of the weights");
  SCULPT_CHECK(int64_t(scores.size()) == ps.arena_size() && !masks.empty(), ConfigError,
               "scores or masks do not cover the parameters", "prune::select");
  const Candidates cand = candidates(s, ps, cfg);
  float* keep = masks.keep().data();
  if (cfg.granularity == prune::Granularity::kNM)
    select_n_m(s.layers, ps, cand, scores, cfg, keep);
  else if (structured(cfg))
    select_units(s, ps, cand, scores, cfg, sparsity, keep);
  else
    select_entries(s.layers, ps, cand, scores, cfg, sparsity, keep);
  masks.apply_to_weights(ps);
}

std::vector<LayerStats> layer_stats(const std::vector<PrunableLayer>& layers, const ParamStore& ps,
                                    const Masks& masks) {
  std::vector<LayerStats> out;
  const float* keep = masks.empty() ? nullptr : masks.keep_data();
  auto kept = [&](size_t tensor) {
    const ParamEntry& e = ps.entry(tensor);
    if (!keep) return e.size;
    return int64_t(std::count_if(keep + e.offset, keep + e.offset + e.size,
                                 [](float k) { return k != 0.0f; }));
  };
  for (const PrunableLayer& p : layers) {
    LayerStats s;
    s.name = p.label();
    const int64_t w_kept = kept(p.weight);
    s.params = ps.entry(p.weight).size + (p.bias ? ps.entry(*p.bias).size : 0);
    s.kept = w_kept + (p.bias ? kept(*p.bias) : 0);
    s.units = p.units;
    for (int64_t u = 0; keep && u < p.units; ++u) s.dead_units += dead(p, ps, keep, u) ? 1 : 0;
    s.flops = p.flops();
    s.flops_kept = w_kept * p.out_spatial;
    out.push_back(s);
  }
  return out;
}

double weight_sparsity(const std::vector<PrunableLayer>& layers, const ParamStore& ps,
                       const Masks& masks) {
  if (masks.empty()) return 0.0;
  int64_t total = 0, pruned = 0;
  const float* keep = masks.keep_data();
  for (const PrunableLayer& p : layers) {
    const ParamEntry& e = ps.entry(p.weight);
    total += e.size;
    pruned += std::count(keep + e.offset, keep + e.offset + e.size, 0.0f);
  }
  return total ? double(pruned) / double(total) : 0.0;
}

}  // namespace sculpt::prune

// The report model: which charts a run has (a chart without data is left out), their series
// (one run: its curves; several: one series per run), the summary table and the notes.
#include "report/run_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "core/error.h"

namespace sculpt::report {

namespace {

using Pick = std::function<std::optional<double>(const MetricsRecord&)>;

std::optional<double> extra(const MetricsRecord& r, const std::string& key) {
  const auto it = r.extra.find(key);
  return it == r.extra.end() ? std::nullopt : std::optional<double>(it->second);
}

// The points (x = step, or epoch for `by_epoch`) of the records of `event` that have a value.
Series collect(const RunData& run, std::string_view event, bool by_epoch, const Pick& pick,
               std::string name, double scale = 1.0) {
  Series s{.name = std::move(name)};
  for (const MetricsRecord& r : run.records) {
    if (r.event != event) continue;
    const std::optional<int64_t> x = by_epoch ? r.epoch : r.step;
    const std::optional<double> y = pick(r);
    if (!x || !y) continue;
    s.x.push_back(double(*x));
    s.y.push_back(*y * scale);
  }
  s.dots = by_epoch && !s.y.empty() && s.y.size() <= 60;
  return thin(std::move(s));
}

Pick field(std::optional<double> MetricsRecord::*m) {
  return [m](const MetricsRecord& r) { return r.*m; };
}
Pick extra_field(std::string key) {
  return [key = std::move(key)](const MetricsRecord& r) { return extra(r, key); };
}

// exp(loss): a text model's perplexity (its loss is the mean cross-entropy per token).
Pick perplexity_of(std::optional<double> MetricsRecord::*m) {
  return [m](const MetricsRecord& r) -> std::optional<double> {
    if (!(r.*m)) return std::nullopt;
    return std::exp(*(r.*m));
  };
}

// The layers named in `key.<layer>` extras of a record, in the record's (sorted) order.
std::vector<std::string> layer_names(const MetricsRecord& r, const std::string& key) {
  std::vector<std::string> names;
  const std::string prefix = key + ".";
  for (const auto& [k, v] : r.extra)
    if (k.starts_with(prefix)) names.push_back(k.substr(prefix.size()));
  return names;
}

bool has_points(const Plot& p) {
  return std::any_of(p.series.begin(), p.series.end(),
                     [](const Series& s) { return !s.y.empty(); });
}

// Per-run series of one chart: with one run the `single` curves, with several the `primary`
// curve of every run named after its directory.
using Curves = std::function<std::vector<Series>(const RunData&)>;

Chart chart(const std::vector<RunData>& runs, Plot plot, std::string caption, const Curves& single,
            const std::function<Series(const RunData&)>& primary) {
  if (runs.size() == 1) {
    plot.series = single(runs[0]);
  } else {
    for (const RunData& run : runs) {
      Series s = primary(run);
      s.name = run.name;
      plot.series.push_back(std::move(s));
    }
  }
  return {std::move(caption), std::move(plot)};
}

// Sparsity in % over steps: the mask updates (prune events), else the epochs' values. `layer`
// empty: the whole model's.
Series sparsity_series(const RunData& run, const std::string& layer, std::string name) {
  const Pick pick =
      layer.empty() ? field(&MetricsRecord::sparsity) : extra_field("sparsity." + layer);
  Series s = collect(run, "prune", false, pick, name, 100.0);
  if (s.y.empty()) s = collect(run, "epoch", false, pick, std::move(name), 100.0);
  return s;
}

// Perplexity per epoch of the text runs (exp of the loss per token): per split for one run,
// the validation curve of each run for several. Runs on other data have none.
void add_perplexity_chart(const std::vector<RunData>& runs, std::vector<Chart>& charts) {
  const auto curve = [](const RunData& run, std::optional<double> MetricsRecord::*m,
                        std::string name) {
    return run.text ? collect(run, "epoch", true, perplexity_of(m), std::move(name)) : Series{};
  };
  charts.push_back(chart(
      runs,
      {.id = "perplexity",
       .title = "Perplexity per epoch",
       .x_label = "epoch",
       .y_label = "perplexity",
       .log_y = true,
       .x_integer = true},
      runs.size() == 1 ? "exp(loss per token) over each epoch's training, and on the validation "
                         "and test splits after it; log2 of it is the bits per token."
                       : "Validation perplexity, exp(loss per token), one line per text run.",
      [&](const RunData& run) {
        return std::vector<Series>{curve(run, &MetricsRecord::loss, "train"),
                                   curve(run, &MetricsRecord::val_loss, "val"),
                                   curve(run, &MetricsRecord::test_loss, "test")};
      },
      [&](const RunData& run) { return curve(run, &MetricsRecord::val_loss, ""); }));
}

// Loss and accuracy per epoch, per split for one run; the learning rate.
void add_training_charts(const std::vector<RunData>& runs, std::vector<Chart>& charts) {
  const auto per_split = [](std::optional<double> MetricsRecord::*train,
                            std::optional<double> MetricsRecord::*val,
                            std::optional<double> MetricsRecord::*test, double scale) {
    return [=](const RunData& run) {
      return std::vector<Series>{collect(run, "epoch", true, field(train), "train", scale),
                                 collect(run, "epoch", true, field(val), "val", scale),
                                 collect(run, "epoch", true, field(test), "test", scale)};
    };
  };
  charts.push_back(chart(
      runs,
      {.id = "loss",
       .title = "Loss per epoch",
       .x_label = "epoch",
       .y_label = "loss",
       .x_integer = true},
      runs.size() == 1 ? "Mean training loss over each epoch, and the loss on the validation and "
                         "test splits after it."
                       : "Mean training loss over each epoch, one line per run.",
      per_split(&MetricsRecord::loss, &MetricsRecord::val_loss, &MetricsRecord::test_loss, 1.0),
      [](const RunData& run) {
        return collect(run, "epoch", true, field(&MetricsRecord::loss), "");
      }));
  charts.push_back(chart(
      runs,
      {.id = "accuracy",
       .title = "Accuracy per epoch",
       .x_label = "epoch",
       .y_label = "accuracy (%)",
       .x_integer = true},
      runs.size() == 1 ? "Training accuracy over each epoch; validation and test accuracy after it."
                       : "Test accuracy after each epoch (validation when there is no test "
                         "split), one line per run.",
      per_split(&MetricsRecord::train_acc, &MetricsRecord::val_acc, &MetricsRecord::test_acc,
                100.0),
      [](const RunData& run) {
        Series s = collect(run, "epoch", true, field(&MetricsRecord::test_acc), "", 100.0);
        return s.y.empty() ? collect(run, "epoch", true, field(&MetricsRecord::val_acc), "", 100.0)
                           : s;
      }));
  add_perplexity_chart(runs, charts);
  const auto lr = [](const RunData& run) {
    Series s = collect(run, "step", false, field(&MetricsRecord::lr), "learning rate");
    return s.y.empty() ? collect(run, "epoch", false, field(&MetricsRecord::lr), "learning rate")
                       : s;
  };
  charts.push_back(chart(
      runs, {.id = "lr", .title = "Learning rate", .x_label = "step", .y_label = "learning rate"},
      "The rate the schedule gave the optimizer at each logged step.",
      [&](const RunData& run) { return std::vector<Series>{lr(run)}; }, lr));
}

// The gradient norm before and after clipping, with the threshold, and the clip rate.
void add_gradient_charts(const std::vector<RunData>& runs, std::vector<Chart>& charts) {
  const auto pre_clip = [](const RunData& run) {
    return collect(run, "step", false, field(&MetricsRecord::grad_norm), "pre-clip norm");
  };
  Chart norm = chart(
      runs,
      {.id = "grad-norm",
       .title = "Gradient norm",
       .x_label = "step",
       .y_label = "global L2 norm",
       .log_y = true},
      "Global L2 norm of the gradients before clipping at each logged step (after clipping too, "
      "and the clip threshold, when a clipper runs).",
      [&](const RunData& run) {
        std::vector<Series> s{pre_clip(run)};
        if (run.clipper != "none")
          s.push_back(collect(run, "step", false, extra_field("clip_norm"), "post-clip norm"));
        s.back().dashed = s.size() > 1;  // drawn over the pre-clip line where nothing was clipped
        return s;
      },
      pre_clip);
  if (runs.size() == 1 && runs[0].clip_limit)
    norm.plot.thresholds.push_back(
        {*runs[0].clip_limit, fmt::format("clip threshold {}", format_tick(*runs[0].clip_limit))});
  charts.push_back(std::move(norm));

  const auto clip_rate = [](const RunData& run) {
    return collect(run, "epoch", true, extra_field("clip_rate"), "clip rate", 100.0);
  };
  charts.push_back(chart(
      runs,
      {.id = "clip-rate",
       .title = "Clip rate per epoch",
       .x_label = "epoch",
       .y_label = "steps clipped (%)",
       .x_integer = true,
       .y_min = 0.0,
       .y_max = 100.0},
      "Share of each epoch's steps whose gradients the clipper changed.",
      [&](const RunData& run) { return std::vector<Series>{clip_rate(run)}; }, clip_rate));
}

// Sparsity at each mask update, and the layer sensitivity of `sculpt prune sensitivity`.
void add_pruning_charts(const std::vector<RunData>& runs, std::vector<Chart>& charts) {
  charts.push_back(chart(
      runs,
      {.id = "sparsity",
       .title = "Sparsity",
       .x_label = "step",
       .y_label = "weights pruned (%)",
       .y_min = 0.0,
       .y_max = 100.0},
      runs.size() == 1 ? "Share of the prunable weights that are pruned, overall and per layer, "
                         "at each mask update."
                       : "Share of the prunable weights that are pruned, one line per run.",
      [](const RunData& run) {
        std::vector<Series> s{sparsity_series(run, "", "total")};
        if (const MetricsRecord* p = run.last("prune"))
          for (const std::string& layer : layer_names(*p, "sparsity"))
            s.push_back(sparsity_series(run, layer, layer));
        return s;
      },
      [](const RunData& run) { return sparsity_series(run, "", ""); }));

  Chart sens{
      "Validation accuracy with one layer pruned alone, without fine-tuning (sculpt prune "
      "sensitivity).",
      {.id = "sensitivity",
       .title = "Layer sensitivity",
       .x_label = "sparsity of the layer (%)",
       .y_label = "validation accuracy (%)",
       .x_integer = false,
       .y_min = std::nullopt,
       .y_max = 100.0}};
  for (const RunData& run : runs) {
    std::map<std::string, Series> by_layer;
    std::vector<std::string> order;
    for (const SensitivityPoint& p : run.sensitivity) {
      if (!by_layer.count(p.layer)) order.push_back(p.layer);
      Series& s = by_layer[p.layer];
      s.x.push_back(100.0 * p.sparsity);
      s.y.push_back(100.0 * p.val_acc);
    }
    for (const std::string& layer : order) {
      Series s = std::move(by_layer[layer]);
      s.name = runs.size() == 1 ? layer : run.name + "/" + layer;
      s.dots = s.y.size() <= 60;
      sens.plot.series.push_back(std::move(s));
    }
  }
  charts.push_back(std::move(sens));
}

std::vector<Chart> make_charts(const std::vector<RunData>& runs) {
  std::vector<Chart> charts;
  add_training_charts(runs, charts);
  add_gradient_charts(runs, charts);
  add_pruning_charts(runs, charts);
  std::erase_if(charts, [](const Chart& c) { return !has_points(c.plot); });
  for (Chart& c : charts) std::erase_if(c.plot.series, [](const Series& s) { return s.y.empty(); });
  return charts;
}

SummaryRow summary(const RunData& run) {
  SummaryRow row{.run = run.name, .optimizer = run.optimizer, .files = run.files};
  const MetricsRecord* end = run.last("end");
  row.finished = end != nullptr;
  const MetricsRecord* last = end ? end : run.last("epoch");
  if (!last) return row;
  row.epochs = last->epoch;
  row.test_acc = last->test_acc;
  row.val_acc = last->val_acc;
  if (!row.test_acc) row.test_loss = last->test_loss;
  if (!row.val_acc) row.val_loss = last->val_loss;
  if (const auto p = extra(*last, "params")) row.params = int64_t(*p);
  if (const auto n = extra(*last, "nonzero")) row.nonzero = int64_t(*n);
  row.sparsity = last->sparsity;
  row.samples_per_s = last->samples_per_s;
  if (end) row.wall_s = end->time_s;
  return row;
}

}  // namespace

Series thin(Series s, size_t max_points) {
  const size_t n = s.y.size();
  if (n <= max_points || max_points < 2) return s;
  Series out{.name = s.name, .color = s.color, .dashed = s.dashed, .dots = false};
  const size_t buckets = max_points / 2;
  for (size_t b = 0; b < buckets; ++b) {
    const size_t lo = b * n / buckets, hi = (b + 1) * n / buckets;
    size_t imin = lo, imax = lo;
    for (size_t i = lo; i < hi; ++i) {
      if (s.y[i] < s.y[imin] || !std::isfinite(s.y[imin])) imin = i;
      if (s.y[i] > s.y[imax] || !std::isfinite(s.y[imax])) imax = i;
    }
    for (const size_t i : {std::min(imin, imax), std::max(imin, imax)}) {
      out.x.push_back(s.x.empty() ? double(i) : s.x[i]);
      out.y.push_back(s.y[i]);
      if (imin == imax) break;
    }
  }
  return out;
}

RunReport build_report(std::vector<RunData> runs) {
  SCULPT_CHECK(!runs.empty(), ConfigError, "a report needs at least one run directory");
  RunReport r;
  r.charts = make_charts(runs);
  for (const RunData& run : runs) {
    r.rows.push_back(summary(run));
    for (const std::string& note : run.notes)
      r.notes.push_back(runs.size() == 1 ? note : run.name + ": " + note);
  }
  if (runs.size() == 1)
    if (const MetricsRecord* end = runs[0].last("end"))
      for (const std::string& layer : layer_names(*end, "sparsity"))
        r.layers.push_back({.name = layer,
                            .params = int64_t(extra(*end, "params." + layer).value_or(0)),
                            .kept = int64_t(extra(*end, "kept." + layer).value_or(0)),
                            .sparsity = extra(*end, "sparsity." + layer).value_or(0)});
  r.runs = std::move(runs);
  return r;
}

}  // namespace sculpt::report

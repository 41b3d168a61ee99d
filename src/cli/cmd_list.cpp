// `sculpt list [what]`: the registries and every recipe field (name, type, default, allowed
// values, meaning), printed from the same fields() lists that drive the recipe parser.
#include <fmt/format.h>

#include <algorithm>

#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/verb.h"
#include "clip/clipper.h"
#include "core/error.h"
#include "core/fields.h"
#include "core/suggest.h"
#include "io/recipe.h"
#include "loss/registry.h"
#include "nn/model.h"
#include "nn/registry.h"
#include "optim/optimizer.h"
#include "prune/criterion.h"
#include "sched/schedule.h"

namespace sculpt::cli {

namespace {

void print_names(const char* title, const std::vector<std::string>& names) {
  fmt::print("{}:\n", title);
  for (const auto& n : names) fmt::print("  {}\n", n);
}

void list_layers() {
  fmt::print("layers ([[model.layers]] type = ...):\n");
  size_t width = 0;
  for (const nn::LayerInfo& l : nn::layer_registry()) width = std::max(width, l.type.size());
  for (const nn::LayerInfo& l : nn::layer_registry()) {
    std::string args;
    for (const auto& a : l.args)
      args +=
          fmt::format(" {}{}", a.name, a.required() ? "" : fmt::format("={}", *a.default_value));
    fmt::print("  {:<{}} {}{}\n", l.type, width, l.doc, args.empty() ? "" : "  args:" + args);
  }
}

void list_losses() {
  fmt::print("losses (train.loss):\n");
  for (const loss::LossInfo& l : loss::loss_registry()) fmt::print("  {:<14} {}\n", l.name, l.doc);
}

void list_recipe() {
  fmt::print("recipe fields (TOML tables; override with --set table.key=value):\n{}",
             format_field_rows(recipe_field_rows()));
}

void print_indented(std::string_view text, std::string_view indent) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    fmt::print("{}{}\n", indent, text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
}

void list_optimizers() {
  fmt::print("optimizers (optim.name); each also takes [[optim.groups]] (sculpt list recipe):\n");
  for (const optim::OptimizerInfo& o : optim::optimizer_infos()) {
    fmt::print("\n{} - {}\n", o.name, o.title);
    print_indented(o.rule, "    ");
    fmt::print("  paper: {}\n", o.paper);
    print_indented(format_field_rows(o.fields), "  ");
    fmt::print("  example:\n");
    print_indented(o.example, "    ");
  }
}

void list_schedules() {
  fmt::print("schedules (schedule.name); every family also takes:\n");
  print_indented(format_field_rows(sched::common_schedule_rows()), "  ");
  fmt::print("and [schedule.plateau] (reduce on plateau, scaling any family):\n");
  print_indented(format_field_rows(describe_fields<sched::PlateauConfig>("schedule.plateau")),
                 "  ");
  for (const sched::ScheduleInfo& s : sched::schedule_infos()) {
    fmt::print("\n{} - {}{}\n", s.name, s.title,
               s.torch.empty() ? "" : fmt::format("  (PyTorch: {})", s.torch));
    print_indented(s.formula, "    ");
    if (!s.fields.empty()) print_indented(format_field_rows(s.fields), "  ");
    fmt::print("  example:\n");
    print_indented(s.example, "    ");
  }
}

void list_clippers() {
  fmt::print("gradient clippers (clip.name); they run after accumulation, before the optimizer:\n");
  for (const clip::ClipperInfo& c : clip::clipper_infos()) {
    fmt::print("\n{} - {}\n", c.name, c.title);
    print_indented(c.formula, "    ");
    if (!c.torch.empty()) fmt::print("  PyTorch: {}\n", c.torch);
    if (!c.paper.empty()) fmt::print("  paper: {}\n", c.paper);
    if (!c.fields.empty()) print_indented(format_field_rows(c.fields), "  ");
    fmt::print("  example:\n");
    print_indented(c.example, "    ");
  }
}

// What each criterion reads, for the criteria listing.
constexpr Choice<prune::Needs> kNeedsTexts[] = {
    {prune::Needs::kWeights, "the weights"},
    {prune::Needs::kGradients, "gradients of a few batches (prune.batches)"},
    {prune::Needs::kTraining, "gradients of every training step (when = \"gradual\")"}};

void list_criteria() {
  fmt::print(
      "pruning criteria (prune.criterion, sculpt prune --criterion); higher scores are "
      "kept:\n");
  for (const prune::CriterionInfo& c : prune::criteria())
    fmt::print("\n{} - {}\n    {}\n  needs: {}\n  {}\n", c.name, c.title, c.formula,
               text_in(kNeedsTexts, c.needs), c.paper);
  fmt::print("\n[prune] keys:\n");
  print_indented(format_field_rows(describe_fields<prune::PruneConfig>("prune")), "  ");
}

// Text for a Markdown table cell: '|' would end the cell and '*' start emphasis.
std::string md_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|' || c == '*') out += '\\';
    out += c;
  }
  return out;
}

void print_rows_markdown(const std::vector<FieldRow>& rows) {
  fmt::print("| key | default | allowed | meaning |\n|---|---|---|---|\n");
  for (const FieldRow& f : rows)
    fmt::print("| `{}` | `{}` | {} | {} |\n", f.key, f.default_value, md_cell(f.allowed),
               md_cell(f.doc));
}

// The same as list_optimizers, as the sections of docs/optimizers.md (scripts/make_docs.sh).
void list_optimizers_markdown() {
  for (const optim::OptimizerInfo& o : optim::optimizer_infos()) {
    fmt::print("## `{}`: {}\n\n```text\n{}\n```\n\n{}\n\n", o.name, o.title, o.rule, o.paper);
    print_rows_markdown(o.fields);
    fmt::print("\n```toml\n{}```\n\n", o.example);
  }
}

// The sections of docs/schedules.md (scripts/make_docs.sh); each shows the plot
// img/schedule-<name>.svg that the script draws with `sculpt schedule --plot`.
void list_schedules_markdown() {
  fmt::print("## Keys of every family\n\n");
  print_rows_markdown(sched::common_schedule_rows());
  fmt::print("\n## `[schedule.plateau]`: reduce on plateau\n\n");
  print_rows_markdown(describe_fields<sched::PlateauConfig>("schedule.plateau"));
  for (const sched::ScheduleInfo& s : sched::schedule_infos()) {
    fmt::print("\n## `{}`: {}\n\n```text\n{}\n```\n\n", s.name, s.title, s.formula);
    if (!s.torch.empty()) fmt::print("PyTorch: `{}`.\n\n", s.torch);
    if (!s.fields.empty()) {
      print_rows_markdown(s.fields);
      fmt::print("\n");
    }
    fmt::print("```toml\n{}```\n\n![{} schedule](img/schedule-{}.svg)\n", s.example, s.name,
               s.name);
  }
}

// The sections of docs/clipping.md (scripts/make_docs.sh).
void list_clippers_markdown() {
  for (const clip::ClipperInfo& c : clip::clipper_infos()) {
    fmt::print("## `{}`: {}\n\n```text\n{}\n```\n\n", c.name, c.title, c.formula);
    if (!c.torch.empty()) fmt::print("PyTorch: `{}`.\n\n", c.torch);
    if (!c.paper.empty()) fmt::print("{}\n\n", c.paper);
    if (!c.fields.empty()) {
      print_rows_markdown(c.fields);
      fmt::print("\n");
    }
    fmt::print("```toml\n{}```\n\n", c.example);
  }
}

// The criteria table and the [prune] keys of docs/pruning.md (scripts/make_docs.sh).
void list_criteria_markdown() {
  fmt::print("| criterion | score (higher is kept) | needs | source |\n|---|---|---|---|\n");
  for (const prune::CriterionInfo& c : prune::criteria())
    fmt::print("| `{}` | {} | {} | {} |\n", c.name, md_cell(c.formula),
               md_cell(text_in(kNeedsTexts, c.needs)), md_cell(c.paper));
  fmt::print("\n### `[prune]` keys\n\n");
  print_rows_markdown(describe_fields<prune::PruneConfig>("prune"));
}

void run_list(const std::string& what, bool markdown) {
  const std::vector<std::string> kinds{"all",    "optimizers", "schedules", "clippers", "criteria",
                                       "layers", "losses",     "models",    "recipe"};
  bool known = false;
  for (const auto& k : kinds) known = known || k == what;
  if (!known)
    throw ConfigError("unknown list '" + what + "'", "sculpt list",
                      did_you_mean(what, kinds) +
                          " choices: optimizers, schedules, clippers, criteria, layers, "
                          "losses, models, recipe");
  if (markdown) {
    SCULPT_CHECK(
        what == "optimizers" || what == "schedules" || what == "clippers" || what == "criteria",
        ConfigError,
        "--markdown is only for `sculpt list optimizers`, `schedules`, `clippers` and "
        "`criteria`",
        "sculpt list", "run `sculpt list optimizers --markdown`");
    if (what == "optimizers")
      list_optimizers_markdown();
    else if (what == "schedules")
      list_schedules_markdown();
    else if (what == "clippers")
      list_clippers_markdown();
    else
      list_criteria_markdown();
    return;
  }
  const bool all = what == "all";
  if (all || what == "optimizers") list_optimizers();
  if (all || what == "schedules") list_schedules();
  if (all || what == "clippers") list_clippers();
  if (all || what == "criteria") list_criteria();
  if (all || what == "models") print_names("models (model.name)", nn::builtin_model_names());
  if (all || what == "layers") list_layers();
  if (all || what == "losses") list_losses();
  if (all || what == "recipe") list_recipe();
}

}  // namespace

void add_list(CLI::App& app) {
  auto what = std::make_shared<std::string>("all");
  CLI::App* sub = app.add_subcommand("list",
                                     "List optimizers, schedules, clippers, pruning criteria, "
                                     "layers, losses, models and recipe fields");
  sub->add_option("what", *what,
                  "optimizers | schedules | clippers | criteria | layers | losses | models | "
                  "recipe | all")
      ->capture_default_str();
  auto markdown = std::make_shared<bool>(false);
  sub->add_flag("--markdown", *markdown,
                "optimizers, schedules, clippers or criteria as the Markdown sections of their "
                "docs page");
  register_verb(sub, [what, markdown] { return run_list(*what, *markdown); });
}

}  // namespace sculpt::cli

// `sculpt list [what]`: the registries and every recipe field (name, type, default, allowed
// values, meaning), printed from the same fields() lists that drive the recipe parser.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/verb.h"
#include "core/error.h"
#include "core/fields.h"
#include "core/suggest.h"
#include "io/recipe.h"
#include "loss/registry.h"
#include "nn/model.h"
#include "nn/registry.h"
#include "optim/optimizer.h"
#include "sched/schedule.h"

namespace sculpt::cli {

namespace {

void print_names(const char* title, const std::vector<std::string>& names) {
  fmt::print("{}:\n", title);
  for (const auto& n : names) fmt::print("  {}\n", n);
}

void list_layers() {
  fmt::print("layers ([[model.layers]] type = ...):\n");
  for (const nn::LayerInfo& l : nn::layer_registry()) {
    std::string args;
    for (const auto& a : l.args)
      args +=
          fmt::format(" {}{}", a.name, a.required() ? "" : fmt::format("={}", *a.default_value));
    fmt::print("  {:<10} {}{}\n", l.type, l.doc, args.empty() ? "" : "  args:" + args);
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

// Text for a Markdown table cell: '|' would end the cell and '*' start emphasis.
std::string md_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|' || c == '*') out += '\\';
    out += c;
  }
  return out;
}

// The same as list_optimizers, as the sections of docs/optimizers.md (scripts/make_docs.sh).
void list_optimizers_markdown() {
  for (const optim::OptimizerInfo& o : optim::optimizer_infos()) {
    fmt::print("## `{}`: {}\n\n```text\n{}\n```\n\n{}\n\n", o.name, o.title, o.rule, o.paper);
    fmt::print("| key | default | allowed | meaning |\n|---|---|---|---|\n");
    for (const FieldRow& f : o.fields)
      fmt::print("| `{}` | `{}` | {} | {} |\n", f.key, f.default_value, md_cell(f.allowed),
                 md_cell(f.doc));
    fmt::print("\n```toml\n{}```\n\n", o.example);
  }
}

int run_list(const std::string& what, bool markdown) {
  const std::vector<std::string> kinds{"all",    "optimizers", "schedules", "layers",
                                       "losses", "models",     "recipe"};
  bool known = false;
  for (const auto& k : kinds) known = known || k == what;
  if (!known)
    throw ConfigError("unknown list '" + what + "'", "sculpt list",
                      did_you_mean(what, kinds) +
                          " choices: optimizers, schedules, layers, "
                          "losses, models, recipe");
  if (markdown) {
    SCULPT_CHECK(what == "optimizers", ConfigError,
                 "--markdown is only for `sculpt list optimizers`", "sculpt list",
                 "run `sculpt list optimizers --markdown`");
    list_optimizers_markdown();
    return 0;
  }
  const bool all = what == "all";
  if (all || what == "optimizers") list_optimizers();
  if (all || what == "schedules") print_names("schedules (schedule.name)", sched::schedule_names());
  if (all || what == "models") print_names("models (model.name)", nn::builtin_model_names());
  if (all || what == "layers") list_layers();
  if (all || what == "losses") list_losses();
  if (all || what == "recipe") list_recipe();
  return 0;
}

}  // namespace

void add_list(CLI::App& app) {
  auto what = std::make_shared<std::string>("all");
  CLI::App* sub = app.add_subcommand("list",
                                     "List optimizers, schedules, layers, losses, models "
                                     "and recipe fields");
  sub->add_option("what", *what, "optimizers | schedules | layers | losses | models | recipe | all")
      ->capture_default_str();
  auto markdown = std::make_shared<bool>(false);
  sub->add_flag("--markdown", *markdown,
                "optimizers as the Markdown sections of docs/optimizers.md");
  register_verb(sub, [what, markdown] { return run_list(*what, *markdown); });
}

}  // namespace sculpt::cli

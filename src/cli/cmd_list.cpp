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

void list_optimizers() {
  fmt::print("optimizers (optim.name); every one also takes [[optim.groups]]:\n");
  for (const optim::OptimizerInfo& o : optim::optimizer_infos()) {
    fmt::print("\n{} - {}\n", o.name, o.title);
    std::string_view rule = o.rule;
    while (!rule.empty()) {
      const size_t nl = rule.find('\n');
      fmt::print("    {}\n", rule.substr(0, nl));
      rule = nl == std::string_view::npos ? std::string_view() : rule.substr(nl + 1);
    }
    fmt::print("  paper: {}\n{}", o.paper, format_field_rows(o.fields));
  }
}

int run_list(const std::string& what) {
  const std::vector<std::string> kinds{"all",    "optimizers", "schedules", "layers",
                                       "losses", "models",     "recipe"};
  bool known = false;
  for (const auto& k : kinds) known = known || k == what;
  if (!known)
    throw ConfigError("unknown list '" + what + "'", "sculpt list",
                      did_you_mean(what, kinds) +
                          " choices: optimizers, schedules, layers, "
                          "losses, models, recipe");
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
  register_verb(sub, [what] { return run_list(*what); });
}

}  // namespace sculpt::cli

// Internal to the CLI: the table of verbs filled by add_<verb>.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace sculpt::cli {

struct Verb {
  CLI::App* sub;
  std::function<int()> run;
};

void register_verb(CLI::App* sub, std::function<int()> run);
// A verb that returns nothing exits with 0 when it returns (one that fails throws).
template <class Run>
requires std::is_void_v<std::invoke_result_t<Run&>>
void register_verb(CLI::App* sub, Run run) {
  register_verb(sub, std::function<int()>([run]() mutable {
                  run();
                  return 0;
                }));
}

// Adds the verb `name` to `parent` and registers `run` (returning its exit code, or nothing)
// for it. Its arguments live as long as the program; the caller binds options of `sub` to them:
//   auto [sub, a] = add_verb<EvalArgs>(app, "eval", "Evaluate a trained model", run_eval);
template <class Args, class Run>
std::pair<CLI::App*, Args*> add_verb(CLI::App& parent, std::string name, std::string help,
                                     Run run) {
  auto args = std::make_shared<Args>();
  CLI::App* sub = parent.add_subcommand(std::move(name), std::move(help));
  register_verb(sub, [args, run] { return run(*args); });
  return {sub, args.get()};
}

// The options several verbs share, with one wording: --set,-s (recipe overrides, repeatable),
// --recipe,-r, and --checkpoint,-c (a run directory or a checkpoint file).
CLI::Option* add_set_option(CLI::App* sub, std::vector<std::string>& sets);
CLI::Option* add_recipe_option(CLI::App* sub, std::string& recipe);
CLI::Option* add_checkpoint_option(CLI::App* sub, std::string& path);

// How the user invoked us (argv[0]), for commands we suggest they run next.
const std::string& program_name();

}  // namespace sculpt::cli

// Internal to the CLI: the table of verbs filled by add_<verb>.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace sculpt::cli {

struct Verb {
  CLI::App* sub;
  std::function<int()> run;
};

void register_verb(CLI::App* sub, std::function<int()> run);

}  // namespace sculpt::cli

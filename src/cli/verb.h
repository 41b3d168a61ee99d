// Internal to the CLI: the table of verbs filled by add_<verb>.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace sculpt::cli {

struct Verb {
  CLI::App* sub;
  std::function<int()> run;
};

void register_verb(CLI::App* sub, std::function<int()> run);

// How the user invoked us (argv[0]), for commands we suggest they run next.
const std::string& program_name();

}  // namespace sculpt::cli

// Dispatch from the parsed subcommand to the verb's run function.
#include "cli/commands.h"

#include "cli/verb.h"

namespace sculpt::cli {

std::vector<Verb>& verbs() {
  static std::vector<Verb> v;
  return v;
}

void register_verb(CLI::App* sub, std::function<int()> run) { verbs().push_back({sub, std::move(run)}); }

int run_selected(CLI::App&) {
  for (const Verb& v : verbs())
    if (v.sub->parsed()) return v.run();
  return 2;
}

}  // namespace sculpt::cli

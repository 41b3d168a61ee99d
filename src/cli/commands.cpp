// Dispatch from the parsed subcommand to the verb's run function.
#include "cli/commands.h"

#include "cli/verb.h"

namespace sculpt::cli {

std::vector<Verb>& verbs() {
  static std::vector<Verb> v;
  return v;
}

void register_verb(CLI::App* sub, std::function<int()> run) {
  verbs().push_back({sub, std::move(run)});
}

namespace {
std::string& program_storage() {
  static std::string name = "sculpt";
  return name;
}
}  // namespace

void set_program_name(const char* argv0) {
  if (argv0 && *argv0) program_storage() = argv0;
}

const std::string& program_name() { return program_storage(); }

int run_selected(CLI::App&) {
  for (const Verb& v : verbs())
    if (v.sub->parsed()) return v.run();
  return 2;
}

}  // namespace sculpt::cli

#include "cli/output_guard.h"

namespace sculpt::cli {

CLI::Option* add_force_flag(CLI::App* sub, bool& force) {
  return sub->add_flag("--force", force,
                       "Replace an existing output (a run directory, or a file this command did "
                       "not write); never an input");
}

}  // namespace sculpt::cli

// The output checks of io/output_guard.h for the verbs, and their --force flag.
#pragma once

#include <CLI/CLI.hpp>

#include "io/output_guard.h"

namespace sculpt::cli {

using io::check_output_file;
using io::check_run_dir;
using io::clear_previous_run;
using io::OutputFile;

// Adds --force to a verb: "Replace an existing output (a run directory or a file that this
// command did not write)".
CLI::Option* add_force_flag(CLI::App* sub, bool& force);

}  // namespace sculpt::cli

// The verbs of the command line: each add_<verb> registers a subcommand and its options;
// run_selected runs the one that was parsed.
#pragma once

#include <CLI/CLI.hpp>

namespace sculpt::cli {

void add_train(CLI::App& app);
void add_eval(CLI::App& app);
void add_list(CLI::App& app);
void add_bench(CLI::App& app);
void add_schedule(CLI::App& app);
void add_lr_find(CLI::App& app);
void add_prune(CLI::App& app);  // with its `sensitivity` subcommand
void add_export(CLI::App& app);
void add_infer(CLI::App& app);
void add_report(CLI::App& app);
void add_info(CLI::App& app);

// The end of a run: writes <dir>/report.html and prints its text summary. A report that
// cannot be written is a warning on stderr: the run itself has succeeded.
void report_run(const std::string& dir);
// Remembers argv[0] so that suggested commands can be pasted as they are.
void set_program_name(const char* argv0);

// Runs the parsed verb; returns the process exit code. Throws sculpt::Error.
int run_selected(CLI::App& app);

}  // namespace sculpt::cli

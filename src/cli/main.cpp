// sculpt: the command line. Each verb lives in cmd_<verb>.cpp and registers its options here.
// Errors from the library are sculpt::Error values; they are printed once and mapped to exit
// codes (2 usage/config, 3 data/IO, 4 numeric).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "cli/signals.h"
#include "core/cpu.h"
#include "core/error.h"
#include "core/suggest.h"

int main(int argc, char** argv) {
  // Past a file-size limit (ulimit -f) a write then fails with EFBIG, which becomes a clear
  // IoError naming the file, instead of SIGXFSZ killing the process mid-write.
  std::signal(SIGXFSZ, SIG_IGN);
  sculpt::cli::start_signal_thread();
  CLI::App app{"Sculpt: train small neural networks on the CPU, then make them smaller and faster",
               "sculpt"};
  app.require_subcommand(1);
  sculpt::cli::set_program_name(argv[0]);
  app.set_version_flag("--version", "sculpt 0.1.0");
  sculpt::cli::add_train(app);
  sculpt::cli::add_eval(app);
  sculpt::cli::add_list(app);
  sculpt::cli::add_bench(app);
  sculpt::cli::add_schedule(app);
  sculpt::cli::add_lr_find(app);
  sculpt::cli::add_prune(app);
  sculpt::cli::add_export(app);
  sculpt::cli::add_infer(app);
  sculpt::cli::add_report(app);
  sculpt::cli::add_info(app);
  try {
    // A mistyped verb: CLI11 would only say that a subcommand is required.
    std::vector<std::string> verbs;
    bool known = false;
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      verbs.push_back(sub->get_name());
      known = known || (argc > 1 && sub->check_name(argv[1]));
    }
    if (argc > 1 && argv[1][0] != '-' && !known) {
      const std::string guess = sculpt::did_you_mean(argv[1], verbs);
      fmt::print(stderr, "sculpt: usage error: {}\n",
                 sculpt::Error(fmt::format("unknown command '{}'", argv[1]), "",
                               (guess.empty() ? "" : guess + " ") +
                                   fmt::format("commands: {}", fmt::join(verbs, ", ")))
                     .what());
      return 2;
    }
    app.parse(argc, argv);
    // SCULPT_ISA checked before any work: a bad level is one clear error, not a throw from a
    // kernel deep in a run.
    sculpt::isa();
    return sculpt::cli::run_selected(app);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // One line, as every other error: what CLI11 found, and where the help is.
    std::string command = "sculpt";
    for (const CLI::App* sub = &app; sub;) {
      const auto parsed = sub->get_subcommands();
      sub = parsed.empty() ? nullptr : parsed.front();
      if (sub) command += " " + sub->get_name();
    }
    fmt::print(stderr, "sculpt: usage error: {}\n",
               sculpt::Error(e.what(), "", "see `" + command + " --help`").what());
    return 2;
  } catch (const sculpt::Error& e) {
    std::fflush(stdout);
    fmt::print(stderr, "sculpt: {}: {}\n", e.kind(), e.what());
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "sculpt: out of memory\n");
    return 3;
  } catch (const std::exception& e) {
    fmt::print(stderr, "sculpt: internal error: {}\n", e.what());
    return 1;
  }
}

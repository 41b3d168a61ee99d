// Run directories: runs/<name>-<YYYYmmdd-HHMMSS>/ (or an explicit --out), created with their
// checkpoints/ folder; small text files written whole.
#pragma once

#include <string>

#include "io/recipe.h"

namespace sculpt::cli {

// Creates the directory (and checkpoints/). Throws IoError naming the path.
std::string make_run_dir(const Recipe& r, const std::string& recipe_path, const std::string& out);
void write_text_file(const std::string& path, const std::string& text);
std::string read_text_file(const std::string& path);

}  // namespace sculpt::cli

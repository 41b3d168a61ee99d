// A recipe: the whole description of a run ([data] [model] [optim] [schedule] [clip] [prune]
// [train] [output]), read from TOML and validated as `sculpt train` reads it.
//
//   sculpt::Recipe recipe = sculpt::Recipe::load("recipes/mlp.toml");
//   recipe.set("train.epochs=3").set("optim.lr=0.05");   // as --set does
//
// Keys, ranges and defaults: `sculpt list recipe` and docs/recipes.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace sculpt {

class Recipe {
 public:
  // Reads and validates a recipe file, then applies `overrides` ("table.key=value"). Throws
  // IoError when the file cannot be read and ConfigError naming the file, the key and a hint
  // for an unknown key, a wrong type or a value out of range.
  static Recipe load(const std::string& path, const std::vector<std::string>& overrides = {});
  // The same from TOML text; `name` stands for the file in errors and names the run directory.
  static Recipe parse(const std::string& toml, const std::string& name = "recipe",
                      const std::vector<std::string>& overrides = {});

  // Applies one override ("table.key=value") with the checks of the file; on a ConfigError the
  // recipe is unchanged.
  Recipe& set(const std::string& key_value);
  // Every key with the value a run would use, as TOML (what the run saves as recipe.toml).
  std::string toml() const;
  // The file (or name) the recipe came from.
  const std::string& source() const;

  Recipe(const Recipe&);
  Recipe& operator=(const Recipe&);
  Recipe(Recipe&&) noexcept;
  Recipe& operator=(Recipe&&) noexcept;
  ~Recipe();

  struct Impl;  // the library's side (src/api)
  const Impl& impl() const { return *impl_; }

 private:
  friend class Run;
  explicit Recipe(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sculpt

// sculpt::Recipe (include/sculpt/recipe.h) over the library's RecipeConfig.
#include "api/impl.h"

namespace sculpt {

Recipe::Impl Recipe::Impl::parsed(std::string text, std::string source,
                                  std::vector<std::string> overrides) {
  RecipeConfig config = parse_recipe(text, source, overrides);
  return {std::move(text), std::move(source), std::move(overrides), std::move(config)};
}

Recipe::Impl Recipe::Impl::of(const RecipeConfig& config) {
  return {to_toml(config), config.source, {}, config};
}

Recipe::Recipe(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Recipe::Recipe(const Recipe& o) : impl_(std::make_unique<Impl>(*o.impl_)) {}
Recipe& Recipe::operator=(const Recipe& o) {
  if (this != &o) impl_ = std::make_unique<Impl>(*o.impl_);
  return *this;
}
Recipe::Recipe(Recipe&&) noexcept = default;
Recipe& Recipe::operator=(Recipe&&) noexcept = default;
Recipe::~Recipe() = default;

Recipe Recipe::load(const std::string& path, const std::vector<std::string>& overrides) {
  return Recipe(std::make_unique<Impl>(Impl::parsed(read_recipe_text(path), path, overrides)));
}

Recipe Recipe::parse(const std::string& toml, const std::string& name,
                     const std::vector<std::string>& overrides) {
  return Recipe(std::make_unique<Impl>(Impl::parsed(toml, name, overrides)));
}

// Parsed again from the text with every override so far: the same checks, in the same order,
// as `sculpt train --set ...` gives.
Recipe& Recipe::set(const std::string& key_value) {
  std::vector<std::string> overrides = impl_->overrides;
  overrides.push_back(key_value);
  *impl_ = Impl::parsed(impl_->text, impl_->source, std::move(overrides));
  return *this;
}

std::string Recipe::toml() const { return to_toml(impl_->config); }
const std::string& Recipe::source() const { return impl_->source; }

}  // namespace sculpt

// Internal to the recipe reader: one reader for every table whose `name` picks a registry row
// that decides the table's other keys ([optim], [schedule], [clip]). A family F describes its
// table:
//   using Config;                          OptimConfig, ... (with `name` and `options`)
//   static constexpr const char* kTable, kDefault, kNameDoc;
//   static Config& of(RecipeConfig&); static const Config& of(const RecipeConfig&);
//   static const FamilyIndex& index();     names, a row's keys, has_field, any_field
//   static Options resolve(const Config&);                           checks, fills defaults
// Choice<F> then gives the Table operations; a family adds its sub-tables around them.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fields.h"
#include "core/options.h"
#include "core/registry.h"
#include "io/recipe.h"

namespace sculpt::recipe_detail {

template <class F>
struct Choice {
  static const FieldSpec& name_spec() {
    static const FieldSpec spec{"name", FieldType::kString, {}, F::index().names(), F::kNameDoc};
    return spec;
  }

  // `name`, then `extra` (the family's sub-tables), then every row's keys once.
  static std::vector<std::string> keys(std::vector<std::string> extra = {}) {
    std::vector<std::string> keys = {"name"};
    keys.insert(keys.end(), extra.begin(), extra.end());
    for (const std::string& n : F::index().names())
      for (const std::string& k : F::index().fields(n))
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    return keys;
  }

  static const FieldSpec* spec(std::string_view key) {
    return key == "name" ? &name_spec() : F::index().any_field(key);
  }

  // `name` is checked at once; any other key is kept as written until F::resolve checks it
  // against the chosen row.
  static void set(RecipeConfig& r, std::string_view key, FieldValue v, std::string_view where) {
    auto& cfg = F::of(r);
    if (key == "name")
      cfg.name = std::get<std::string>(
          check_value(name_spec(), std::move(v), std::string(F::kTable) + ".name", where));
    else
      cfg.options.set(std::string(key), std::move(v), std::string(where));
  }

  // The name and every resolved option, defaults included.
  static std::vector<std::pair<std::string, FieldValue>> values(const RecipeConfig& r) {
    std::vector<std::pair<std::string, FieldValue>> out = {{"name", F::of(r).name}};
    const Options resolved = F::resolve(F::of(r));
    for (const Option& o : resolved.items()) out.emplace_back(o.key, o.value);
    return out;
  }

  static FieldRow name_row() {
    return describe_field(name_spec(), F::kTable, std::string(F::kDefault));
  }

  // After `name` changes: drops the options the newly chosen row does not have.
  static void drop_foreign_options(typename F::Config& cfg) {
    std::vector<std::string> dropped;
    for (const Option& o : cfg.options.items())
      if (!F::index().has_field(cfg.name, o.key)) dropped.push_back(o.key);
    for (const std::string& k : dropped) cfg.options.erase(k);
  }
};

}  // namespace sculpt::recipe_detail

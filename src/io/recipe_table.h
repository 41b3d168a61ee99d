// Internals of the recipe reader shared by its translation units (recipe.cpp: the tables and
// the generic parsing; recipe_optim.cpp: [optim], whose keys depend on its name, and
// [[optim.groups]]; recipe_schedule.cpp and recipe_clip.cpp: [schedule] and [clip], likewise). Not
// part of the library's API.
#pragma once

#include <toml++/toml.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fields.h"
#include "io/recipe.h"

namespace sculpt::recipe_detail {

// One [table] of a recipe, with its operations erased to plain function pointers.
struct Table {
  const char* name;
  std::vector<std::string> (*keys)();
  const FieldSpec* (*spec)(std::string_view key);
  // Checks and stores a value; requires spec(key) != nullptr.
  void (*set)(RecipeConfig&, std::string_view key, FieldValue v, std::string_view where);
  std::vector<std::pair<std::string, FieldValue>> (*values)(const RecipeConfig&);
  std::vector<FieldRow> (*rows)();
  void (*validate)(const RecipeConfig&);
};

// "file:line:col" of a node (the file alone when toml++ has no position).
std::string position(const std::string& source, const toml::node& n);
const char* node_kind(const toml::node& n);  // "table", "integer", ...
// The value of a scalar node or of an array of numbers; nullopt for tables, other arrays and
// dates.
std::optional<FieldValue> scalar(const toml::node& n);
// `n` as a table; ConfigError "<key> must be a table, got <kind>" with `hint` otherwise.
const toml::table& table_of(const toml::node& n, const std::string& key, const std::string& source,
                            const std::string& hint);
// Calls `each(key + "[i]", table, position)` for every table of the array of tables `node`
// ([[key]]), in order. ConfigError "<key> must be an array of tables" with `hint` when `node` is
// not an array, and with `item_hint` when an entry is not a table.
void for_each_table(
    const toml::node& node, const std::string& key, const std::string& source,
    const std::string& hint, const std::string& item_hint,
    const std::function<void(const std::string&, const toml::table&, const std::string&)>& each);
// The entries of an array of tables, each read by `parse(key + "[i]", table, position, source)`.
template <class T>
std::vector<T> read_tables(const toml::node& node, const std::string& key,
                           const std::string& source, const std::string& hint,
                           const std::string& item_hint,
                           T (*parse)(const std::string& key, const toml::table& tbl,
                                      const std::string& where, const std::string& source)) {
  std::vector<T> out;
  for_each_table(node, key, source, hint, item_hint,
                 [&](const std::string& k, const toml::table& tbl, const std::string& where) {
                   out.push_back(parse(k, tbl, where, source));
                 });
  return out;
}

// [[model.layers]]: type, optional name, optional inputs (a layer name or a list of them),
// numeric arguments. ConfigError naming the entry and the key otherwise.
nn::LayerSpec parse_layer(const std::string& key, const toml::table& tbl, const std::string& where,
                          const std::string& source);
// The [[model.layers]] tables of a custom model, as TOML.
std::string layers_toml(const std::vector<nn::LayerSpec>& layers);

// [optim]: `name` is a field; every other key is an option of the chosen optimizer, kept as
// written until optim::resolve_options checks it.
Table optim_table();
// [[optim.groups]]: params (a glob or a list of globs), then ParamGroupConfig's fields.
void parse_groups(RecipeConfig& r, const toml::node& node, const std::string& source);
// Drops the options the (newly chosen) optimizer does not have.
void drop_foreign_options(OptimConfig& cfg);
// The [[optim.groups]] tables of a resolved recipe, as TOML.
std::string groups_toml(const OptimConfig& cfg);

// [schedule]: `name` is a field; `plateau.<key>` sets [schedule.plateau]; every other key is an
// option of the chosen family, kept as written until sched::resolve_options checks it.
Table schedule_table();
// [[schedule.phases]] (name = "sequence"): name, then the family's keys and length.
void parse_phases(RecipeConfig& r, const toml::node& node, const std::string& source);
// [schedule.plateau]: PlateauConfig's fields; writing the table turns it on.
void parse_plateau(RecipeConfig& r, const toml::node& node, const std::string& source);
// Drops the options the (newly chosen) family does not have.
void drop_foreign_options(ScheduleConfig& cfg);
// The [[schedule.phases]] and [schedule.plateau] tables of a resolved recipe, as TOML.
std::string schedule_subtables_toml(const ScheduleConfig& cfg);

// [clip]: `name` is a field; every other key is an option of the chosen clipper, kept as
// written until clip::resolve_options checks it.
Table clip_table();
// Drops the options the (newly chosen) clipper does not have.
void drop_foreign_options(ClipConfig& cfg);

}  // namespace sculpt::recipe_detail

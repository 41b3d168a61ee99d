// Internal to the recipe reader: one reader for every table whose `name` picks a registry row
// that decides the table's other keys ([optim], [schedule], [clip]). A family is one
// ChoiceFamily value (listed at the end); Choice<family> gives the Table operations, and the
// family's file adds its sub-tables around them.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clip/clipper.h"
#include "core/fields.h"
#include "core/options.h"
#include "core/registry.h"
#include "io/recipe.h"
#include "io/recipe_table.h"
#include "optim/optimizer.h"
#include "sched/schedule.h"

namespace sculpt::recipe_detail {

// What the reader needs of a family. The default name is Config's own initialiser.
template <class C>
struct ChoiceFamily {
  using Config = C;                  // OptimConfig, ... (with `name` and `options`)
  const char* table;                 // "optim"
  const char* name_doc;              // the doc of `name`
  C RecipeConfig::*member;           // &RecipeConfig::optim
  const FamilyIndex& (*index)();     // names, a row's keys, has_field, any_field
  Options (*resolve)(const C& cfg);  // checks the options, fills defaults
};

template <const auto& F>
struct Choice {
  using Config = typename std::remove_cvref_t<decltype(F)>::Config;

  static const FieldSpec& name_spec() {
    static const FieldSpec spec{"name", FieldType::kString, {}, F.index().names(), F.name_doc};
    return spec;
  }

  // `name`, then `extra` (the family's sub-tables), then every row's keys once.
  static std::vector<std::string> keys(std::vector<std::string> extra = {}) {
    std::vector<std::string> keys = {"name"};
    keys.insert(keys.end(), extra.begin(), extra.end());
    for (const std::string& n : F.index().names())
      for (const std::string& k : F.index().fields(n))
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    return keys;
  }

  static const FieldSpec* spec(std::string_view key) {
    return key == "name" ? &name_spec() : F.index().any_field(key);
  }

  // `name` is checked at once; any other key is kept as written until F.resolve checks it
  // against the chosen row.
  static void set(RecipeConfig& r, std::string_view key, FieldValue v, std::string_view where) {
    Config& cfg = r.*F.member;
    if (key == "name")
      cfg.name = std::get<std::string>(
          check_value(name_spec(), std::move(v), std::string(F.table) + ".name", where));
    else
      cfg.options.set(std::string(key), std::move(v), std::string(where));
  }

  // The name and every resolved option, defaults included.
  static std::vector<std::pair<std::string, FieldValue>> values(const RecipeConfig& r) {
    const Config& cfg = r.*F.member;
    std::vector<std::pair<std::string, FieldValue>> out = {{"name", cfg.name}};
    const Options resolved = F.resolve(cfg);
    for (const Option& o : resolved.items()) out.emplace_back(o.key, o.value);
    return out;
  }

  static FieldRow name_row() { return describe_field(name_spec(), F.table, Config{}.name); }

  // After `name` changes: drops the options the newly chosen row does not have.
  static void drop_foreign_options(Config& cfg) {
    std::vector<std::string> dropped;
    for (const Option& o : cfg.options.items())
      if (!F.index().has_field(cfg.name, o.key)) dropped.push_back(o.key);
    for (const std::string& k : dropped) cfg.options.erase(k);
  }

  // The family's Table: `keys` names the sub-tables (keys({...})), `rows` documents every key,
  // `validate` checks a recipe built in code. [schedule] also replaces spec and set.
  static Table table(std::vector<std::string> (*keys)(), std::vector<FieldRow> (*rows)(),
                     void (*validate)(const RecipeConfig&)) {
    return Table{F.table, keys, &spec, &set, &values, rows, validate};
  }
};

// The families whose name picks a registry row.
inline constexpr ChoiceFamily<OptimConfig> kOptim{
    "optim", "optimizer (its options: `sculpt list optimizers`)", &RecipeConfig::optim,
    &optim::optimizer_index, &optim::resolve_options};
inline constexpr ChoiceFamily<ScheduleConfig> kSchedule{
    "schedule", "schedule family (its keys: `sculpt list schedules`)", &RecipeConfig::schedule,
    &sched::schedule_index, &sched::resolve_options};
inline constexpr ChoiceFamily<ClipConfig> kClip{
    "clip", "gradient clipping rule (its keys: `sculpt list clippers`)", &RecipeConfig::clip,
    &clip::clipper_index, &clip::resolve_options};
using OptimChoice = Choice<kOptim>;
using ScheduleChoice = Choice<kSchedule>;
using ClipChoice = Choice<kClip>;

}  // namespace sculpt::recipe_detail

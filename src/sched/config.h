// [schedule] as a recipe gives it: the family's name, its options as written, the phases of a
// sequence and the plateau settings. io/recipe.h reads it from TOML; sched/registry.h resolves
// it into a Schedule. Owned here, so the schedules never include io.
#pragma once

#include <string>
#include <vector>

#include "core/fields.h"
#include "core/options.h"
#include "sched/schedule.h"

namespace sculpt {

// One [[schedule.phases]] table of name = "sequence": a family, its options and its length.
struct SchedulePhase {
  std::string name;
  Options options;    // the family's keys and `length` (in the schedule's unit)
  std::string where;  // position in the recipe (for messages)
};

// [schedule]: `name` picks the family and decides which other keys exist (sched/schedule.h,
// `sculpt list schedules`); every family also takes unit, update, warmup and warmup_start.
// `options` holds the keys as written until parse_recipe resolves them.
struct ScheduleConfig {
  std::string name = "constant";
  Options options;
  std::vector<SchedulePhase> phases;  // name = "sequence"
  sched::PlateauConfig plateau;       // [schedule.plateau]

  // For recipes built in code: r.schedule.set("name", "cosine").set("warmup", 1).
  ScheduleConfig& set(std::string key, FieldValue value) {
    if (key == "name") name = std::get<std::string>(value);
    else options.set(std::move(key), std::move(value), "schedule");
    return *this;
  }
};

}  // namespace sculpt

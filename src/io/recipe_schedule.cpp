// [schedule], [[schedule.phases]] and [schedule.plateau] in recipes: the family's name decides
// which keys exist, so the table checks its options against the schedule registry.
#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "core/suggest.h"
#include "io/recipe_choice.h"
#include "sched/schedule.h"

namespace sculpt::recipe_detail {

namespace {

constexpr std::string_view kPlateau = "plateau.";

const Field<sched::PlateauConfig>* plateau_field(std::string_view key) {
  if (!key.starts_with(kPlateau)) return nullptr;
  return find_field<sched::PlateauConfig>(key.substr(kPlateau.size()));
}

// Sets one [schedule.plateau] key; writing any key but `enabled` turns the plateau on.
void set_plateau(sched::PlateauConfig& p, const Field<sched::PlateauConfig>& f, FieldValue v,
                 std::string_view where) {
  set_field(p, f, std::move(v), "schedule.plateau." + f.name(), where);
  if (f.name() != "enabled") p.enabled = true;
}

const FieldSpec* schedule_spec(std::string_view key) {
  if (const auto* f = plateau_field(key)) return &f->spec;
  return ScheduleChoice::spec(key);
}

void set_schedule(RecipeConfig& r, std::string_view key, FieldValue v, std::string_view where) {
  if (const auto* f = plateau_field(key))
    set_plateau(r.schedule.plateau, *f, std::move(v), where);
  else
    ScheduleChoice::set(r, key, std::move(v), where);
}

std::vector<FieldRow> schedule_rows() {
  std::vector<FieldRow> rows = {ScheduleChoice::name_row()};
  for (FieldRow& row : sched::common_schedule_rows()) rows.push_back(std::move(row));
  rows.push_back({"schedule.<option>", "", "", "",
                  "the family's own keys (step_size, total, max_lr, ...): `sculpt list "
                  "schedules`"});
  rows.push_back({"schedule.phases", "tables", "[]", "",
                  "name = \"sequence\": [[schedule.phases]] with name, the family's keys "
                  "and length"});
  for (FieldRow& row : describe_fields<sched::PlateauConfig>("schedule.plateau"))
    rows.push_back(std::move(row));
  return rows;
}

void validate_schedule(const RecipeConfig& r) {
  sched::resolve_options(r.schedule);
  for (size_t i = 0; i < r.schedule.phases.size(); ++i)
    sched::resolve_phase_options(r.schedule.phases[i], i);
  validate_fields(r.schedule.plateau, "schedule.plateau", r.source);
}

// One [[schedule.phases]] entry: name, then the family's keys and length (checked later).
SchedulePhase parse_phase(const std::string& key, const toml::table& tbl, const std::string& where,
                          const std::string& source) {
  SchedulePhase ph;
  ph.where = where;
  for (const auto& [k, v] : tbl) {
    const std::string name(k.str());
    const std::string vwhere = position(source, v);
    std::optional<FieldValue> value = scalar(v);
    if (!value)
      throw ConfigError(fmt::format("{}.{} must be a value, got {}", key, name, node_kind(v)),
                        vwhere, "phases hold name, the family's keys and length");
    if (name == "name") {
      const auto* s = std::get_if<std::string>(&*value);
      if (!s)
        throw ConfigError(fmt::format("{}.name must be a string, got {}", key, node_kind(v)),
                          vwhere, "e.g. name = \"cosine\"");
      ph.name = *s;
    } else {
      ph.options.set(name, std::move(*value), vwhere);
    }
  }
  if (ph.name.empty())
    throw ConfigError(fmt::format("{}.name is missing", key), ph.where,
                      "give each phase a family: name = \"linear\", \"cosine\", ...");
  return ph;
}

}  // namespace

Table schedule_table() {
  Table t = ScheduleChoice::table(
      [] {
        return ScheduleChoice::keys({"phases", "plateau"});
      },
      &schedule_rows, &validate_schedule);
  t.spec = &schedule_spec;
  t.set = &set_schedule;
  return t;
}

void parse_phases(RecipeConfig& r, const toml::node& node, const std::string& source) {
  const std::string hint = "write each phase as [[schedule.phases]]";
  r.schedule.phases = read_tables(node, "schedule.phases", source, hint, hint, &parse_phase);
}

void parse_plateau(RecipeConfig& r, const toml::node& node, const std::string& source) {
  const toml::table& tbl =
      table_of(node, "schedule.plateau", source, "write [schedule.plateau] followed by its keys");
  r.schedule.plateau.enabled = true;
  for (const auto& [k, v] : tbl) {
    const std::string name(k.str());
    const std::string where = position(source, v);
    const Field<sched::PlateauConfig>* f = find_field<sched::PlateauConfig>(name);
    if (!f) {
      const std::vector<std::string> keys = field_names<sched::PlateauConfig>();
      std::string hint = did_you_mean(name, keys);
      if (hint.empty())
        hint = fmt::format("[schedule.plateau] keys are: {}", fmt::join(keys, ", "));
      throw ConfigError(fmt::format("unknown key 'schedule.plateau.{}'", name), where, hint);
    }
    std::optional<FieldValue> value = scalar(v);
    if (!value) throw_wrong_type(f->spec, "schedule.plateau." + name, node_kind(v), where);
    set_field(r.schedule.plateau, *f, std::move(*value), "schedule.plateau." + name, where);
  }
}

void drop_foreign_options(ScheduleConfig& cfg) { ScheduleChoice::drop_foreign_options(cfg); }

std::string schedule_subtables_toml(const ScheduleConfig& cfg) {
  std::string out;
  for (size_t i = 0; i < cfg.phases.size(); ++i) {
    out += fmt::format("\n[[schedule.phases]]\nname = {}\n", toml_quote(cfg.phases[i].name));
    const Options resolved = sched::resolve_phase_options(cfg.phases[i], i);
    for (const Option& o : resolved.items())
      out += fmt::format("{} = {}\n", o.key, format_value(o.value));
  }
  if (cfg.plateau.enabled) {
    out += "\n[schedule.plateau]\n";
    for (const auto& f : sched::PlateauConfig::fields())
      out += fmt::format("{} = {}\n", f.name(), format_value(f.get(cfg.plateau)));
  }
  return out;
}

}  // namespace sculpt::recipe_detail

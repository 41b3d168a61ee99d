// [optim] and [[optim.groups]] in recipes: the optimizer's name decides which other keys exist,
// so this table checks its options against the optimizer registry instead of a fields() list.
#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "core/suggest.h"
#include "io/recipe_choice.h"
#include "io/recipe_table.h"
#include "optim/optimizer.h"

namespace sculpt::recipe_detail {

std::string position(const std::string& source, const toml::node& n) {
  const auto& b = n.source().begin;
  if (b.line == 0) return source;
  return fmt::format("{}:{}:{}", source, b.line, b.column);
}

const char* node_kind(const toml::node& n) {
  static constexpr sculpt::Choice<toml::node_type> kKinds[] = {
      {toml::node_type::table, "table"},          {toml::node_type::array, "array"},
      {toml::node_type::string, "string"},        {toml::node_type::integer, "integer"},
      {toml::node_type::floating_point, "float"}, {toml::node_type::boolean, "bool"},
      {toml::node_type::date, "date/time"},       {toml::node_type::time, "date/time"},
      {toml::node_type::date_time, "date/time"}};
  // The texts are string literals: data() ends with their '\0'.
  return text_in(kKinds, n.type()).data();
}

std::optional<FieldValue> scalar(const toml::node& n) {
  if (const auto* v = n.as_boolean()) return FieldValue(v->get());
  if (const auto* v = n.as_integer()) return FieldValue(v->get());
  if (const auto* v = n.as_floating_point()) return FieldValue(v->get());
  if (const auto* v = n.as_string()) return FieldValue(v->get());
  if (const auto* a = n.as_array()) {
    NumberList list;
    for (const toml::node& e : *a) {
      if (const auto* i = e.as_integer())
        list.push_back(static_cast<double>(i->get()));
      else if (const auto* d = e.as_floating_point())
        list.push_back(d->get());
      else
        return std::nullopt;
    }
    return FieldValue(std::move(list));
  }
  return std::nullopt;
}

const toml::table& table_of(const toml::node& n, const std::string& key, const std::string& source,
                            const std::string& hint) {
  const toml::table* t = n.as_table();
  if (!t)
    throw ConfigError(fmt::format("{} must be a table, got {}", key, node_kind(n)),
                      position(source, n), hint);
  return *t;
}

void for_each_table(
    const toml::node& node, const std::string& key, const std::string& source,
    const std::string& hint, const std::string& item_hint,
    const std::function<void(const std::string&, const toml::table&, const std::string&)>& each) {
  const toml::array* arr = node.as_array();
  if (!arr)
    throw ConfigError(fmt::format("{} must be an array of tables, got {}", key, node_kind(node)),
                      position(source, node), hint);
  for (size_t i = 0; i < arr->size(); ++i) {
    const std::string item = fmt::format("{}[{}]", key, i);
    each(item, table_of((*arr)[i], item, source, item_hint), position(source, (*arr)[i]));
  }
}

namespace {

std::vector<FieldRow> optim_rows() {
  std::vector<FieldRow> rows = {OptimChoice::name_row()};
  rows.push_back(
      {"optim.<option>", "", "", "",
       "the optimizer's own options (lr, momentum, beta1, ...): `sculpt list optimizers`"});
  rows.push_back(
      {"optim.groups.params", "globs", "[]", "",
       "[[optim.groups]]: parameter names the group applies to (\"*.bias\", \"fc3.*\")"});
  for (FieldRow& row : describe_fields<ParamGroupConfig>("optim.groups"))
    rows.push_back(std::move(row));
  return rows;
}

void validate_optim(const RecipeConfig& r) {
  optim::resolve_options(r.optim);
  for (size_t i = 0; i < r.optim.groups.size(); ++i) {
    const ParamGroupConfig& g = r.optim.groups[i];
    validate_fields(g, fmt::format("optim.groups[{}]", i), g.where.empty() ? r.source : g.where);
    if (g.weight_decay < 0 && g.weight_decay != -1.0)
      throw ConfigError(
          fmt::format("optim.groups[{}].weight_decay must be -1 or >= 0, got {}", i,
                      g.weight_decay),
          g.where.empty() ? r.source : g.where,
          "-1 keeps the optimizer's weight decay; 0 turns decay off for these tensors");
    if (g.params.empty())
      throw ConfigError(fmt::format("optim.groups[{}].params is missing or empty", i),
                        g.where.empty() ? r.source : g.where,
                        "add params = \"*.bias\" (glob patterns on parameter names)");
  }
}

// params = "glob" or ["glob", ...]
void read_params(ParamGroupConfig& g, const toml::node& v, const std::string& gkey,
                 const std::string& source) {
  const char* hint = "params = \"*.bias\" or params = [\"fc1.*\", \"fc2.*\"]";
  if (const auto* str = v.as_string()) {
    g.params.push_back(str->get());
  } else if (const auto* list = v.as_array()) {
    for (const toml::node& p : *list) {
      const auto* ps = p.as_string();
      if (!ps)
        throw ConfigError(fmt::format("{}.params must hold strings, got {}", gkey, node_kind(p)),
                          position(source, p), hint);
      g.params.push_back(ps->get());
    }
  } else {
    throw ConfigError(
        fmt::format("{}.params must be a string or a list of strings, got {}", gkey, node_kind(v)),
        position(source, v), hint);
  }
}

// One [[optim.groups]] entry: params, then ParamGroupConfig's fields.
ParamGroupConfig parse_group(const std::string& gkey, const toml::table& tbl,
                             const std::string& gwhere, const std::string& source) {
  ParamGroupConfig g;
  g.where = gwhere;
  for (const auto& [k, v] : tbl) {
    const std::string name(k.str());
    const std::string where = position(source, v);
    if (name == "params") {
      read_params(g, v, gkey, source);
      continue;
    }
    const Field<ParamGroupConfig>* f = find_field<ParamGroupConfig>(name);
    if (!f) {
      std::vector<std::string> keys = field_names<ParamGroupConfig>();
      keys.insert(keys.begin(), "params");
      std::string hint = did_you_mean(name, keys);
      if (hint.empty()) hint = fmt::format("group keys are: {}", fmt::join(keys, ", "));
      throw ConfigError(fmt::format("unknown key '{}.{}'", gkey, name), where, hint);
    }
    std::optional<FieldValue> value = scalar(v);
    if (!value) throw_wrong_type(f->spec, fmt::format("{}.{}", gkey, name), node_kind(v), where);
    set_field(g, *f, std::move(*value), fmt::format("{}.{}", gkey, name), where);
  }
  return g;
}

}  // namespace

Table optim_table() {
  return OptimChoice::table([] { return OptimChoice::keys({"groups"}); }, &optim_rows,
                            &validate_optim);
}

void parse_groups(RecipeConfig& r, const toml::node& node, const std::string& source) {
  const std::string hint = "write each group as [[optim.groups]]";
  r.optim.groups = read_tables(node, "optim.groups", source, hint, hint, &parse_group);
}

void drop_foreign_options(OptimConfig& cfg) { OptimChoice::drop_foreign_options(cfg); }

std::string groups_toml(const OptimConfig& cfg) {
  std::string out;
  for (const ParamGroupConfig& g : cfg.groups) {
    std::vector<std::string> quoted;
    for (const std::string& p : g.params) quoted.push_back(toml_quote(p));
    out += fmt::format("\n[[optim.groups]]\nparams = [{}]\n", fmt::join(quoted, ", "));
    for (const auto& f : ParamGroupConfig::fields())
      out += fmt::format("{} = {}\n", f.name(), format_value(f.get(g)));
  }
  return out;
}

}  // namespace sculpt::recipe_detail

// RecipeConfig loading (toml++), `--set table.key=value` overrides and to_toml. Every table is
// driven by its struct's fields() list; [[model.layers]] is the one hand-written part.
#include "io/recipe.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <optional>
#include <sstream>

#include "clip/clipper.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/read_file.h"
#include "core/suggest.h"
#include "io/recipe_table.h"
#include "optim/optimizer.h"
#include "sched/schedule.h"

namespace sculpt {

using namespace recipe_detail;

namespace {

template <class T, T RecipeConfig::*M>
Table make_table(const char* name) {
  static const char* table_name = name;
  return Table{
      name,
      [] { return field_names<T>(); },
      [](std::string_view key) -> const FieldSpec* {
        const Field<T>* f = find_field<T>(key);
        return f ? &f->spec : nullptr;
      },
      [](RecipeConfig& r, std::string_view key, FieldValue v, std::string_view where) {
        const Field<T>& f = *find_field<T>(key);
        set_field(r.*M, f, std::move(v), fmt::format("{}.{}", table_name, key), where);
      },
      [](const RecipeConfig& r) {
        std::vector<std::pair<std::string, FieldValue>> out;
        for (const auto& f : T::fields()) out.emplace_back(f.name(), f.get(r.*M));
        return out;
      },
      [] { return describe_fields<T>(table_name); },
      [](const RecipeConfig& r) { validate_fields(r.*M, table_name, r.source); },
  };
}

const std::vector<Table>& tables() {
  static const std::vector<Table> t = {
      make_table<DataConfig, &RecipeConfig::data>("data"),
      make_table<ModelConfig, &RecipeConfig::model>("model"),
      optim_table(),
      schedule_table(),
      clip_table(),
      make_table<prune::PruneConfig, &RecipeConfig::prune>("prune"),
      make_table<TrainConfig, &RecipeConfig::train>("train"),
      make_table<OutputConfig, &RecipeConfig::output>("output"),
  };
  return t;
}

const Table* find_table(std::string_view name) {
  for (const Table& t : tables())
    if (name == t.name) return &t;
  return nullptr;
}

std::vector<std::string> table_names() {
  std::vector<std::string> out;
  for (const Table& t : tables()) out.emplace_back(t.name);
  return out;
}

// Hint for a key written outside its table ("lr" -> "did you mean 'optim.lr'?").
std::string hint_for_bare_key(std::string_view key) {
  for (const Table& t : tables())
    if (t.spec(key)) return fmt::format("did you mean '{}.{}'?", t.name, key);
  return did_you_mean(key, table_names());
}

[[noreturn]] void unknown_table(std::string_view name, const std::string& where) {
  std::string hint = did_you_mean(name, table_names());
  if (hint.empty()) hint = "tables are: " + fmt::format("{}", fmt::join(table_names(), ", "));
  throw ConfigError(fmt::format("unknown table '{}'", name), where, hint);
}

[[noreturn]] void unknown_key(const Table& t, std::string_view key, const std::string& where) {
  std::string hint = did_you_mean(key, t.keys());
  if (hint.empty()) hint = fmt::format("[{}] keys are: {}", t.name, fmt::join(t.keys(), ", "));
  throw ConfigError(fmt::format("unknown key '{}.{}'", t.name, key), where, hint);
}

// One [[model.layers]] entry: type (required), name (optional), every other key numeric.
void parse_layers(RecipeConfig& r, const toml::node& node, const std::string& source) {
  r.model.custom.layers =
      read_tables(node, "model.layers", source, "write each layer as [[model.layers]]",
                  "write each layer as [[model.layers]] followed by type = \"...\"", &parse_layer);
}

// The tables inside a table, each with its own reader. An array of tables cannot be given
// with --set (a [schedule.plateau] key can: schedule.plateau.<key>).
struct SubTable {
  std::string_view table, key;
  bool array;  // [[table.key]]
  void (*parse)(RecipeConfig& r, const toml::node& node, const std::string& source);
};
constexpr SubTable kSubTables[] = {
    {"model", "layers", true, &parse_layers},
    {"optim", "groups", true, &parse_groups},
    {"schedule", "phases", true, &parse_phases},
    {"schedule", "plateau", false, &parse_plateau},
};

const SubTable* find_sub_table(std::string_view table, std::string_view key) {
  for (const SubTable& s : kSubTables)
    if (s.table == table && s.key == key) return &s;
  return nullptr;
}

void parse_table(RecipeConfig& r, const Table& t, const toml::table& tbl,
                 const std::string& source) {
  for (const auto& [k, v] : tbl) {
    const std::string key(k.str());
    const std::string where = position(source, v);
    if (const SubTable* sub = find_sub_table(t.name, key)) {
      sub->parse(r, v, source);
      continue;
    }
    const FieldSpec* spec = t.spec(key);
    if (!spec) unknown_key(t, key, where);
    std::optional<FieldValue> value = scalar(v);
    if (!value) throw_wrong_type(*spec, fmt::format("{}.{}", t.name, key), node_kind(v), where);
    t.set(r, key, std::move(*value), where);
  }
}

void parse_root(RecipeConfig& r, const toml::table& root, const std::string& source) {
  for (const auto& [k, v] : root) {
    const std::string name(k.str());
    const std::string where = position(source, v);
    const Table* t = find_table(name);
    if (!t && v.is_table()) unknown_table(name, where);
    if (!t)
      throw ConfigError(fmt::format("unknown key '{}' (outside any table)", name), where,
                        hint_for_bare_key(name));
    const toml::table* tbl = v.as_table();
    if (!tbl)
      throw ConfigError(fmt::format("'{}' must be a table, got {}", name, node_kind(v)), where,
                        fmt::format("write [{}] on its own line, then key = value lines", name));
    parse_table(r, *t, *tbl, source);
  }
}

// "optim.lr=0.05": the same checks as the file, positioned at the --set argument.
void apply_override(RecipeConfig& r, const std::string& text) {
  const std::string where = fmt::format("{}: --set {}", r.source, text);
  const size_t eq = text.find('=');
  if (eq == std::string::npos)
    throw ConfigError("an override must look like table.key=value", where,
                      "e.g. --set optim.lr=0.05");
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  const std::string_view lhs = trim(std::string_view(text).substr(0, eq));
  const std::string_view value = trim(std::string_view(text).substr(eq + 1));
  const size_t dot = lhs.find('.');
  if (dot == std::string_view::npos)
    throw ConfigError(fmt::format("unknown key '{}' (an override needs table.key)", lhs), where,
                      hint_for_bare_key(lhs));
  const std::string_view table = lhs.substr(0, dot), key = lhs.substr(dot + 1);
  const Table* t = find_table(table);
  if (!t) unknown_table(table, where);
  if (const SubTable* sub = find_sub_table(table, key); sub && sub->array)
    throw ConfigError(fmt::format("{}.{} cannot be set with --set", table, key), where,
                      fmt::format("write [[{}.{}]] in a recipe file", table, key));
  const FieldSpec* spec = t->spec(key);
  if (!spec) unknown_key(*t, std::string(key), where);
  // A built-in model chosen on the command line replaces the file's custom layer list.
  const bool drops_layers = table == "model" && key == "name";
  t->set(r, key, parse_value_text(*spec, value), where);
  if (drops_layers && r.model.name != "custom") r.model.custom.layers.clear();
  // Another optimizer chosen on the command line keeps only the options it has.
  if (table == "optim" && key == "name") drop_foreign_options(r.optim);
  if (table == "schedule" && key == "name") drop_foreign_options(r.schedule);
  if (table == "clip" && key == "name") drop_foreign_options(r.clip);
}

// [[model.layers]] decide the model: name must then be "custom" (or absent, meaning custom).
void resolve_model(RecipeConfig& r, bool name_given) {
  if (r.model.custom.layers.empty()) return;
  if (name_given && r.model.name != "custom")
    throw ConfigError(
        fmt::format("model.name = \"{}\" conflicts with [[model.layers]]", r.model.name), r.source,
        "remove model.name or set it to \"custom\"");
  r.model.name = "custom";
}

// toml++ builds a table per dotted part ([a.b.c] or a.b.c = 1) and recurses over them when it
// parses and frees them: 100,000 parts overflow the stack. A recipe nests three deep at most,
// so a key of more than kMaxKeyParts parts is refused before toml++ sees it. The scan skips
// strings and comments and counts the dots of each run of key characters and dots (a float
// such as 1.5 has one); `source:line` names the line.
constexpr int kMaxKeyParts = 16;

void check_key_depth(std::string_view text, const std::string& source) {
  int64_t line = 1;
  int dots = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '#') {  // a comment runs to the end of the line
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
      continue;
    }
    if (c == '"' || c == '\'') {  // a string: one part of a key, or a value
      const std::string_view triple = c == '"' ? R"(""")" : "'''";
      const std::string_view close = text.substr(i, 3) == triple ? triple : text.substr(i, 1);
      size_t j = i + close.size();
      while (j < text.size() && text.substr(j, close.size()) != close) {
        if (text[j] == '\n') {
          ++line;
          if (close.size() == 1) break;  // an unterminated string: toml++ reports it
        }
        if (c == '"' && text[j] == '\\') ++j;  // an escape in a basic string
        ++j;
      }
      i = std::min(j + close.size(), text.size()) - 1;
      continue;
    }
    if (c == '.') {
      if (++dots >= kMaxKeyParts)
        throw ConfigError(
            fmt::format("a key or table name has more than {} dotted parts", kMaxKeyParts),
            fmt::format("{}:{}", source, line),
            "recipe tables nest three deep at most, e.g. [schedule.plateau]");
    } else if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == ' ' ||
                 c == '\t')) {
      dots = 0;
      if (c == '\n') ++line;
    }
  }
}

// train.tbptt carries a recurrent layer's state from one text window to the next: it needs
// text, a recurrent layer, and windows that follow each other (stride = steps).
void check_tbptt_recipe(const RecipeConfig& r) {
  if (!r.train.tbptt) return;
  const std::string hint = "set train.tbptt = false, or see docs/recipes.md (train.tbptt)";
  if (r.data.source != DataSource::kText)
    throw ConfigError(fmt::format("train.tbptt needs text data (data.source = \"text\"), not "
                                  "\"{}\"",
                                  text_of(r.data.source)),
                      r.source, hint);
  const auto& layers = r.model.custom.layers;
  const bool recurrent =
      r.model.name == "custom" && std::any_of(layers.begin(), layers.end(), [](const auto& l) {
        return l.type == "lstm" || l.type == "gru";
      });
  if (!recurrent)
    throw ConfigError("train.tbptt needs a recurrent model: no lstm or gru layer in the model",
                      r.source, "add a [[model.layers]] type = \"lstm\" (or \"gru\"), or " + hint);
  if (r.data.stride != 0 && r.data.stride != r.data.steps)
    throw ConfigError(fmt::format("train.tbptt carries the state from each window to the next, so "
                                  "windows must follow each other: data.stride = {} with "
                                  "data.steps = {}",
                                  r.data.stride, r.data.steps),
                      r.source, "set data.stride = 0 (windows of data.steps, end to end)");
}

}  // namespace

void validate_recipe(const RecipeConfig& r) {
  for (const Table& t : tables()) t.validate(r);
  prune::validate(r.prune);
  if (r.data.val_fraction + r.data.test_fraction >= 1.0)
    throw ConfigError(fmt::format("data.val_fraction + data.test_fraction must be < 1, got {} + {}",
                                  r.data.val_fraction, r.data.test_fraction),
                      r.source, "leave some samples for training");
  // The run directory is <output.dir>/<output.name>-<time>: a name holding a path would put it
  // anywhere ("../../x").
  const std::string& name = r.output.name;
  if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos ||
      name.find('\0') != std::string::npos || name == "." || name == "..")
    throw ConfigError(fmt::format("output.name \"{}\" is a path, not a name", name), r.source,
                      "give a plain name; choose the place with output.dir or --out");
  if (r.model.name == "custom" && r.model.custom.layers.empty())
    throw ConfigError("model.name = \"custom\" needs a [[model.layers]] list", r.source,
                      "add [[model.layers]] tables or pick a built-in model");
  check_tbptt_recipe(r);
}

RecipeConfig parse_recipe(const std::string& toml_text, const std::string& source,
                          const std::vector<std::string>& overrides) {
  RecipeConfig r;
  r.source = source;
  SCULPT_CHECK(int64_t(toml_text.size()) <= kMaxRecipeBytes, ConfigError,
               fmt::format("the recipe is {} bytes, more than the limit of {}", toml_text.size(),
                           human_bytes_binary(double(kMaxRecipeBytes))),
               source, "a recipe is a short text file; is this the right file?");
  check_key_depth(toml_text, source);
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw ConfigError(std::string(e.description()),
                      fmt::format("{}:{}:{}", source, b.line, b.column), "this is not valid TOML");
  }
  parse_root(r, root, source);
  const auto* model = root["model"].as_table();
  resolve_model(r, model && model->contains("name"));
  for (const std::string& o : overrides) apply_override(r, o);
  validate_recipe(r);
  r.optim.options = optim::resolve_options(r.optim);
  r.schedule.options = sched::resolve_options(r.schedule);
  for (size_t i = 0; i < r.schedule.phases.size(); ++i)
    r.schedule.phases[i].options = sched::resolve_phase_options(r.schedule.phases[i], i);
  r.clip.options = clip::resolve_options(r.clip);
  return r;
}

std::string read_recipe_text(const std::string& path) {
  return read_file_capped(path, {.what = "recipe",
                                 .max_bytes = kMaxRecipeBytes,
                                 .hint = "check the path; recipes/ holds examples"});
}

RecipeConfig load_recipe(const std::string& path, const std::vector<std::string>& overrides) {
  return parse_recipe(read_recipe_text(path), path, overrides);
}

std::string to_toml(const RecipeConfig& r) {
  std::string out = "# Resolved recipe: every key with the value the run used.\n";
  for (const Table& t : tables()) {
    out += fmt::format("\n[{}]\n", t.name);
    for (const auto& [key, value] : t.values(r))
      out += fmt::format("{} = {}\n", key, format_value(value));
    if (std::string_view(t.name) == "optim") out += groups_toml(r.optim);
    if (std::string_view(t.name) == "schedule") out += schedule_subtables_toml(r.schedule);
    if (std::string_view(t.name) != "model") continue;
    out += layers_toml(r.model.custom.layers);
  }
  return out;
}

std::vector<FieldRow> recipe_field_rows() {
  std::vector<FieldRow> rows;
  for (const Table& t : tables()) {
    for (FieldRow& row : t.rows()) rows.push_back(std::move(row));
    if (std::string_view(t.name) == "model")
      rows.push_back({"model.layers", "layers", "[]", "",
                      "custom model: [[model.layers]] with type, optional name, numeric args"});
  }
  return rows;
}

}  // namespace sculpt

// Config fields: each config struct lists its fields once ({name, member, range or choices, doc})
// and that list drives TOML parsing, validation messages, `--set table.key=value` overrides,
// to_toml and the tables printed by `sculpt list`. Defaults come from the struct's initialisers.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace sculpt {

enum class FieldType { kInt, kUint, kDouble, kBool, kString, kList };

// A value as read from TOML or from the command line, before it is checked against a field.
// Unsigned fields travel as int64 (they are capped at INT64_MAX so that TOML can hold them).
// Lists are lists of numbers (milestones = [30, 60]); every element must lie in the field's range.
using NumberList = std::vector<double>;
using FieldValue = std::variant<bool, int64_t, double, std::string, NumberList>;

// Allowed interval for a number; unbounded sides are infinite.
struct Range {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_open = false;  // true: min itself is excluded
  bool max_open = false;
  bool contains(double v) const;  // false for NaN
  bool bounded() const;
  std::string describe() const;  // ">= 0", "> 0", "<= 5", "in [0, 1)"; "" when unbounded
};
Range at_least(double lo);                  // [lo, inf)
Range greater_than(double lo);              // (lo, inf)
Range closed(double lo, double hi);         // [lo, hi]
Range half_open(double lo, double hi);      // [lo, hi)

// The struct-independent part of a field: enough to check a value and to describe it.
struct FieldSpec {
  std::string name;
  FieldType type = FieldType::kString;
  Range range;                       // numbers only
  std::vector<std::string> choices;  // strings only: the closed set, or empty for any string
  std::string doc;
  bool int_as_string = false;        // a string field that also takes an integer (a column index)
};

// Converts `v` to the field's type (integers are accepted for doubles) and checks type, range
// and choices. `key` is "table.key" for messages, `where` the file position. Throws ConfigError.
FieldValue check_value(const FieldSpec& f, FieldValue v, std::string_view key,
                       std::string_view where);
// Reads a `--set` value for this field: "0.1", "true", "abc", '"abc"', "[30, 60]" or "30,60"
// (lists). Not yet checked.
FieldValue parse_value_text(const FieldSpec& f, std::string_view text);
// Throws ConfigError "<key> must be <a number|an integer|...>, got <got>".
[[noreturn]] void throw_wrong_type(const FieldSpec& f, std::string_view key, std::string_view got,
                                   std::string_view where);
// TOML literal for a value: 0.1, 10, true, "text", [30.0, 60.0] (floats always keep a '.' or exponent and
// print the shortest text that reads back to the same double).
std::string format_value(const FieldValue& v);
std::string toml_quote(std::string_view s);
const char* type_name(FieldType t);  // "integer", "number", "bool", "string"

template <class T>
struct Field {
  using Member = std::variant<int64_t T::*, uint64_t T::*, double T::*, bool T::*,
                              std::string T::*, NumberList T::*>;
  FieldSpec spec;
  Member member;

  Field(std::string name, int64_t T::*m, Range r, std::string doc)
      : spec{std::move(name), FieldType::kInt, r, {}, std::move(doc)}, member(m) {}
  Field(std::string name, uint64_t T::*m, Range r, std::string doc)
      : spec{std::move(name), FieldType::kUint, r, {}, std::move(doc)}, member(m) {}
  Field(std::string name, double T::*m, Range r, std::string doc)
      : spec{std::move(name), FieldType::kDouble, r, {}, std::move(doc)}, member(m) {}
  Field(std::string name, NumberList T::*m, Range r, std::string doc)
      : spec{std::move(name), FieldType::kList, r, {}, std::move(doc)}, member(m) {}
  Field(std::string name, bool T::*m, std::string doc)
      : spec{std::move(name), FieldType::kBool, {}, {}, std::move(doc)}, member(m) {}
  Field(std::string name, std::string T::*m, std::vector<std::string> choices, std::string doc,
        bool int_as_string = false)
      : spec{std::move(name), FieldType::kString, {}, std::move(choices), std::move(doc),
             int_as_string},
        member(m) {}

  const std::string& name() const { return spec.name; }

  FieldValue get(const T& obj) const {
    return std::visit(
        [&](auto m) -> FieldValue {
          using V = std::remove_cvref_t<decltype(obj.*m)>;
          if constexpr (std::is_same_v<V, uint64_t>) return static_cast<int64_t>(obj.*m);
          else return obj.*m;
        },
        member);
  }
  // Stores a value already converted by check_value().
  void set(T& obj, const FieldValue& v) const {
    std::visit(
        [&](auto m) {
          using V = std::remove_cvref_t<decltype(obj.*m)>;
          if constexpr (std::is_same_v<V, uint64_t>) obj.*m = static_cast<uint64_t>(std::get<int64_t>(v));
          else obj.*m = std::get<V>(v);
        },
        member);
  }
};

// ---- Generic operations over T::fields() ----

template <class T>
const Field<T>* find_field(std::string_view name) {
  for (const auto& f : T::fields())
    if (f.name() == name) return &f;
  return nullptr;
}

template <class T>
std::vector<std::string> field_names() {
  std::vector<std::string> out;
  for (const auto& f : T::fields()) out.push_back(f.name());
  return out;
}

// Checks `v` against `f` and stores it in `obj`.
template <class T>
void set_field(T& obj, const Field<T>& f, FieldValue v, std::string_view key,
               std::string_view where) {
  f.set(obj, check_value(f.spec, std::move(v), key, where));
}

// Re-checks every field of an object built in code (designated initialisers bypass parsing).
template <class T>
void validate_fields(const T& obj, std::string_view table, std::string_view where) {
  for (const auto& f : T::fields())
    check_value(f.spec, f.get(obj), std::string(table) + "." + f.name(), where);
}

template <class T>
bool fields_equal(const T& a, const T& b) {
  for (const auto& f : T::fields())
    if (f.get(a) != f.get(b)) return false;
  return true;
}

// One printable row per field, for `sculpt list` and the docs tables.
struct FieldRow {
  std::string key;            // "optim.lr"
  std::string type;           // "number"
  std::string default_value;  // TOML literal of the struct's default
  std::string allowed;        // range or choices ("in [0, 1)", "stop | skip"), "" if any
  std::string doc;
};

FieldRow describe_field(const FieldSpec& f, std::string_view table, const FieldValue& def);

template <class T>
std::vector<FieldRow> describe_fields(std::string_view table) {
  const T defaults{};
  std::vector<FieldRow> rows;
  for (const auto& f : T::fields()) rows.push_back(describe_field(f.spec, table, f.get(defaults)));
  return rows;
}

// Aligned plain-text table with a header line (key, type, default, allowed, doc).
std::string format_field_rows(const std::vector<FieldRow>& rows);

}  // namespace sculpt

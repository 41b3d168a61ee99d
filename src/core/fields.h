// Config fields: each config struct lists its fields once ({name, member, range or choices, doc})
// and that list drives TOML parsing, validation messages, `--set table.key=value` overrides,
// to_toml and the tables printed by `sculpt list`. Defaults come from the struct's initialisers.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
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
Range at_least(double lo);              // [lo, inf)
Range greater_than(double lo);          // (lo, inf)
Range closed(double lo, double hi);     // [lo, hi]
Range half_open(double lo, double hi);  // [lo, hi)

// The struct-independent part of a field: enough to check a value and to describe it.
struct FieldSpec {
  std::string name;
  FieldType type = FieldType::kString;
  Range range;                       // numbers only
  std::vector<std::string> choices;  // strings only: the closed set, or empty for any string
  std::string doc;
  bool int_as_string = false;  // a string field that also takes an integer (a column index)
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
// TOML literal for a value: 0.1, 10, true, "text", [30.0, 60.0] (floats always keep a '.' or
// exponent and print the shortest text that reads back to the same double).
std::string format_value(const FieldValue& v);
std::string toml_quote(std::string_view s);
const char* type_name(FieldType t);  // "integer", "number", "bool", "string"

// A closed set of choices held as an enum and named by text in recipes, --set, messages and
// listings. Each enum declares its table next to it, found by argument-dependent lookup:
//   enum class Scope { kGlobal, kLayer };
//   inline constexpr Choice<Scope> kScopes[] = {{Scope::kGlobal, "global"}, {Scope::kLayer,
//   "layer"}}; constexpr std::span<const Choice<Scope>> choices_of(Scope) { return kScopes; }
// A config member of such a type is a choice field: the text is checked once, when the recipe
// is read, and the code compares enum values.
template <class E>
struct Choice {
  E value;
  std::string_view text;
};

template <class E>
concept ChoiceEnum = std::is_enum_v<E> && requires(E e) {
  choices_of(e);
};

// The text of `v` in `table`, "?" when it has none. Any enum -> text mapping can be such a
// table instead of a switch, e.g. a description of each value next to the enum's own names.
template <class E>
std::string_view text_in(std::span<const Choice<std::type_identity_t<E>>> table, E v) {
  for (const Choice<E>& c : table)
    if (c.value == v) return c.text;
  return "?";
}
template <ChoiceEnum E>
std::string_view text_of(E v) {
  return text_in(choices_of(E{}), v);
}
// The value named `text`, or nullopt.
template <ChoiceEnum E>
std::optional<E> enum_of(std::string_view text) {
  for (const Choice<E>& c : choices_of(E{}))
    if (c.text == text) return c.value;
  return std::nullopt;
}
template <ChoiceEnum E>
std::vector<std::string> choice_texts() {
  std::vector<std::string> out;
  for (const Choice<E>& c : choices_of(E{})) out.emplace_back(c.text);
  return out;
}

// How a choice field reads and writes its enum member (through its text).
template <class T>
struct EnumMember {
  std::string (*get)(const T&, const void* member);
  void (*set)(T&, const void* member, const std::string&);
  std::shared_ptr<const void> member;  // the E T::* it stands for
};

template <class T>
struct Field {
  using Member = std::variant<int64_t T::*, uint64_t T::*, double T::*, bool T::*, std::string T::*,
                              NumberList T::*, EnumMember<T>>;
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
      : spec{std::move(name),    FieldType::kString, {},
             std::move(choices), std::move(doc),     int_as_string},
        member(m) {}

  // A choice field: its choices are the enum's texts.
  template <ChoiceEnum E>
  Field(std::string name, E T::*m, std::string doc, bool int_as_string = false)
      : spec{std::move(name),   FieldType::kString, {},
             choice_texts<E>(), std::move(doc),     int_as_string},
        member(EnumMember<T>{&get_enum<E>, &set_enum<E>, std::make_shared<E T::*>(m)}) {}

  const std::string& name() const { return spec.name; }

  FieldValue get(const T& obj) const {
    return std::visit(
        [&](auto m) -> FieldValue {
          if constexpr (std::is_same_v<decltype(m), EnumMember<T>>) {
            return m.get(obj, m.member.get());
          } else {
            using V = std::remove_cvref_t<decltype(obj.*m)>;
            if constexpr (std::is_same_v<V, uint64_t>)
              return static_cast<int64_t>(obj.*m);
            else
              return obj.*m;
          }
        },
        member);
  }
  // Stores a value already converted by check_value().
  void set(T& obj, const FieldValue& v) const {
    std::visit(
        [&](auto m) {
          if constexpr (std::is_same_v<decltype(m), EnumMember<T>>) {
            m.set(obj, m.member.get(), std::get<std::string>(v));
          } else {
            using V = std::remove_cvref_t<decltype(obj.*m)>;
            if constexpr (std::is_same_v<V, uint64_t>)
              obj.*m = static_cast<uint64_t>(std::get<int64_t>(v));
            else
              obj.*m = std::get<V>(v);
          }
        },
        member);
  }

 private:
  template <class E>
  static std::string get_enum(const T& obj, const void* member) {
    return std::string(text_of(obj.**static_cast<E T::*const*>(member)));
  }
  // `text` is one of the choices: check_value() has seen it.
  template <class E>
  static void set_enum(T& obj, const void* member, const std::string& text) {
    obj.**static_cast<E T::*const*>(member) = *enum_of<E>(text);
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

// Sets the field `name` of `obj` from its text as `--set` does (the same checks and message);
// `key` names it in errors ("prune.granularity").
template <class T>
void set_field_text(T& obj, std::string_view name, std::string_view text, std::string_view key,
                    std::string_view where = {}) {
  const Field<T>* f = find_field<T>(name);
  set_field(obj, *f, parse_value_text(f->spec, text), key, where);
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

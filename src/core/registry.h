// One registry for every family a recipe names by string (optimizers, schedule families,
// clippers, ...): rows found by name with one "did you mean" error, the names for listings, and
// for families configured by Options (core/options.h) the field queries that `sculpt list`, the
// docs and the recipe reader ask. A family declares its Row (a name, see row_name; its factory;
// and `fields` when it takes options) and one Registry<Row> of them; nothing else.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/fields.h"
#include "core/options.h"
#include "core/suggest.h"

namespace sculpt {

// What a row of an Options-configured family knows of its fields, typed by its config struct C
// (a struct with a static fields() table, core/fields.h): resolve checks given options against
// C and fills in the defaults; spec finds a field's FieldSpec by key.
struct OptionFields {
  std::function<Options(const Options&, std::string_view table)> resolve;
  std::function<const FieldSpec*(std::string_view key)> spec;
};

// `member` names the row in errors ("optim.momentum is not a field of 'adam'").
template <class C>
OptionFields option_fields(std::string member) {
  return {
      [member](const Options& o, std::string_view table) {
        return to_options(options_to<C>(o, table, member));
      },
      [](std::string_view key) -> const FieldSpec* {
        const Field<C>* f = find_field<C>(key);
        return f ? &f->spec : nullptr;
      },
  };
}

// A row of a family configured by options and built from them (optimizers, clippers): its info
// (a struct with `name` and a `fields` listing), its fields and its factory from options.
template <class Info, class Product>
struct OptionRow {
  Info info;
  OptionFields fields;
  std::function<std::unique_ptr<Product>(const Options&)> make;
};

// The Row (an OptionRow) of config struct C: `info` names it, and its (empty) `fields` get C's
// listed under recipe table `table` ("optim"); `make` builds the product from a C read from the
// options.
template <class C, class Row, class Make>
Row option_row(const char* table, decltype(Row::info) info, Make make) {
  info.fields = describe_fields<C>(table);
  std::string name = info.name;
  OptionFields fields = option_fields<C>(name);
  return Row{std::move(info), std::move(fields),
             [table, name = std::move(name), make](const Options& o) {
               return make(options_to<C>(o, table, name));
             }};
}

// The queries the recipe reader makes of a family configured by options (optimizers, schedule
// families, clippers): its names, a row's keys, whether a row has a key, and the first row's spec
// of a key (for values given before the name is known). Registry::index() builds it.
struct FamilyIndex {
  std::function<std::vector<std::string>()> names;
  std::function<std::vector<std::string>(std::string_view name)> fields;
  std::function<bool(std::string_view name, std::string_view key)> has_field;
  std::function<const FieldSpec*(std::string_view key)> any_field;
};

// The type of a row's `info` (NoInfo for rows without one).
struct NoInfo {};
template <class Row>
struct RowInfo {
  using type = NoInfo;
};
template <class Row>
requires requires(const Row& r) { r.info; }
struct RowInfo<Row> {
  using type = decltype(Row::info);
};

// A row's name: `info.name`, else `name`, else `type` (a layer's).
template <class Row>
std::string_view row_name(const Row& r) {
  if constexpr (requires { r.info.name; })
    return r.info.name;
  else if constexpr (requires { r.name; })
    return r.name;
  else
    return r.type;
}

template <class Row>
class Registry {
 public:
  using Info = typename RowInfo<Row>::type;

  // `key` is the recipe key that names a row ("optim.name"), for errors.
  Registry(std::string key, std::vector<Row> rows) : key_(std::move(key)), rows_(std::move(rows)) {
    if constexpr (!std::is_same_v<Info, NoInfo>)
      for (const Row& r : rows_) infos_.push_back(r.info);
  }

  const std::vector<Row>& rows() const { return rows_; }

  // Every row's `info`, in order (for listings and docs), as long as the registry lives: a
  // family's `<family>_infos()` returns it from its static registry.
  const std::vector<Info>& infos() const { return infos_; }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Row& r : rows_) out.emplace_back(row_name(r));
    return out;
  }

  // The row called `name`, or nullptr.
  const Row* get(std::string_view name) const {
    for (const Row& r : rows_)
      if (row_name(r) == name) return &r;
    return nullptr;
  }

  // The row called `name`; else ConfigError "<key> must be one of a | b, got "x"" at `where`
  // with a "did you mean" hint. `key` overrides the registry's (a schedule phase's name).
  const Row& find(std::string_view name, const std::string& where = {},
                  std::string_view key = {}) const {
    if (const Row* r = get(name)) return *r;
    const std::vector<std::string> all = names();
    std::string hint = did_you_mean(name, all);
    if (hint.empty()) hint = fmt::format("choose one of: {}", fmt::join(all, ", "));
    throw ConfigError(fmt::format("{} must be one of {}, got \"{}\"", key.empty() ? key_ : key,
                                  fmt::join(all, " | "), name),
                      where.empty() ? key_ : where, hint);
  }

  // Options-configured families (rows with `fields`): whether row `name` has the field `key`,
  // and the first row's spec of a field `key` (for values given before the name is known).
  bool has_field(std::string_view name, std::string_view key) const {
    const Row* r = get(name);
    return r && r->fields.spec(key) != nullptr;
  }
  const FieldSpec* any_field(std::string_view key) const {
    for (const Row& r : rows_)
      if (const FieldSpec* s = r.fields.spec(key)) return s;
    return nullptr;
  }
  // The keys of row `name` (from its info's field listing, "optim.lr" -> "lr"); empty if none.
  std::vector<std::string> fields(std::string_view name) const {
    std::vector<std::string> out;
    if (const Row* r = get(name))
      for (const FieldRow& f : r->info.fields) out.push_back(f.key.substr(f.key.find('.') + 1));
    return out;
  }
  // The four queries above as a FamilyIndex; the registry must outlive it (a static one does).
  FamilyIndex index() const {
    return {[this] { return names(); }, [this](std::string_view n) { return fields(n); },
            [this](std::string_view n, std::string_view k) { return has_field(n, k); },
            [this](std::string_view k) { return any_field(k); }};
  }

 private:
  std::string key_;
  std::vector<Row> rows_;
  std::vector<Info> infos_;  // rows_' infos, copied once
};

}  // namespace sculpt

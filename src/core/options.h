// Options of a family member: a recipe table whose keys depend on its `name` ([optim] with
// name = "adam" takes beta1, beta2, ...). The table keeps the keys as written (with their file
// position); the member's config struct, with its own fields() and defaults, checks them and
// fills in the rest. The same struct then drives `sculpt list`, the docs tables and to_toml.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/fields.h"
#include "core/suggest.h"

namespace sculpt {

struct Option {
  std::string key;
  FieldValue value;
  std::string where;  // file position or "--set ..." (for messages)
};

// Keys in the order written (or, once resolved, in the config's field order).
class Options {
 public:
  const std::vector<Option>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  const Option* find(std::string_view key) const;
  // Replaces the value of `key` or appends it.
  void set(std::string key, FieldValue value, std::string where = {});
  void erase(std::string_view key);
  bool operator==(const Options& o) const;

 private:
  std::vector<Option> items_;
};

// Checks `given` against T's fields and stores them over T's defaults. `table` and `member` are
// for messages ("optim", "adam"). Throws ConfigError naming the key and its position, with a
// "did you mean" hint or the list of keys the member takes.
template <class T>
T options_to(const Options& given, std::string_view table, std::string_view member) {
  T out{};
  for (const Option& o : given.items()) {
    const Field<T>* f = find_field<T>(o.key);
    if (!f) {
      std::string hint = did_you_mean(o.key, field_names<T>());
      if (hint.empty()) {
        hint = std::string(member) + (field_names<T>().empty() ? " takes no options" : " takes:");
        for (const std::string& n : field_names<T>()) hint += " " + n;
      }
      throw ConfigError(std::string(table) + "." + o.key + " is not a field of " +
                            std::string(table) + ".name = \"" + std::string(member) + "\"",
                        o.where, hint);
    }
    set_field(out, *f, o.value, std::string(table) + "." + o.key, o.where);
  }
  return out;
}

// Every field of `obj`, in field order.
template <class T>
Options to_options(const T& obj) {
  Options out;
  for (const auto& f : T::fields()) out.set(f.name(), f.get(obj));
  return out;
}

}  // namespace sculpt

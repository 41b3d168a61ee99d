#include "core/options.h"

#include <algorithm>

namespace sculpt {

const Option* Options::find(std::string_view key) const {
  for (const Option& o : items_)
    if (o.key == key) return &o;
  return nullptr;
}

void Options::set(std::string key, FieldValue value, std::string where) {
  for (Option& o : items_)
    if (o.key == key) {
      o.value = std::move(value);
      o.where = std::move(where);
      return;
    }
  items_.push_back({std::move(key), std::move(value), std::move(where)});
}

void Options::erase(std::string_view key) {
  std::erase_if(items_, [&](const Option& o) { return o.key == key; });
}

bool Options::operator==(const Options& o) const {
  return std::equal(
      items_.begin(), items_.end(), o.items_.begin(), o.items_.end(),
      [](const Option& a, const Option& b) { return a.key == b.key && a.value == b.value; });
}

}  // namespace sculpt

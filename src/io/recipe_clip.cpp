// [clip] in recipes: the clipper's name decides which other keys exist, so the table checks its
// options against the clipper registry instead of a fields() list.
#include <fmt/format.h>

#include <algorithm>

#include "clip/clipper.h"
#include "core/error.h"
#include "io/recipe_table.h"

namespace sculpt::recipe_detail {

namespace {

const FieldSpec& clip_name_spec() {
  static const FieldSpec spec{"name",
                              FieldType::kString,
                              {},
                              clip::clipper_names(),
                              "gradient clipping rule (its keys: `sculpt list clippers`)"};
  return spec;
}

}  // namespace

Table clip_table() {
  return Table{
      "clip",
      [] {
        std::vector<std::string> keys = {"name"};
        for (const std::string& c : clip::clipper_names())
          for (const std::string& k : clip::clipper_fields(c))
            if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
        return keys;
      },
      [](std::string_view key) -> const FieldSpec* {
        return key == "name" ? &clip_name_spec() : clip::any_clipper_field(key);
      },
      [](Recipe& r, std::string_view key, FieldValue v, std::string_view where) {
        if (key == "name")
          r.clip.name = std::get<std::string>(
              check_value(clip_name_spec(), std::move(v), "clip.name", where));
        else
          r.clip.options.set(std::string(key), std::move(v), std::string(where));
      },
      [](const Recipe& r) {
        std::vector<std::pair<std::string, FieldValue>> out = {{"name", r.clip.name}};
        const Options resolved = clip::resolve_options(r.clip);
        for (const Option& o : resolved.items()) out.emplace_back(o.key, o.value);
        return out;
      },
      [] {
        return std::vector<FieldRow>{
            describe_field(clip_name_spec(), "clip", std::string("none")),
            {"clip.<option>", "", "", "",
             "the clipper's own keys (max_value, max_norm, norm_type, clipping, percentile, "
             "...): `sculpt list clippers`"}};
      },
      [](const Recipe& r) { clip::resolve_options(r.clip); },
  };
}

void drop_foreign_options(ClipConfig& cfg) {
  std::vector<std::string> dropped;
  for (const Option& o : cfg.options.items())
    if (!clip::clipper_has_field(cfg.name, o.key)) dropped.push_back(o.key);
  for (const std::string& k : dropped) cfg.options.erase(k);
}

}  // namespace sculpt::recipe_detail

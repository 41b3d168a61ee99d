// [clip] in recipes: the clipper's name decides which other keys exist, so the table checks its
// options against the clipper registry instead of a fields() list.
#include <fmt/format.h>

#include "clip/clipper.h"
#include "core/error.h"
#include "io/recipe_choice.h"
#include "io/recipe_table.h"

namespace sculpt::recipe_detail {

namespace {

struct ClipFamily {
  using Config = ClipConfig;
  static constexpr const char* kTable = "clip";
  static constexpr const char* kDefault = "none";
  static constexpr const char* kNameDoc =
      "gradient clipping rule (its keys: `sculpt list clippers`)";
  static ClipConfig& of(RecipeConfig& r) { return r.clip; }
  static const ClipConfig& of(const RecipeConfig& r) { return r.clip; }
  static const FamilyIndex& index() { return clip::clipper_index(); }
  static Options resolve(const ClipConfig& c) { return clip::resolve_options(c); }
};
using ClipChoice = Choice<ClipFamily>;

}  // namespace

Table clip_table() {
  return Table{
      "clip",
      [] { return ClipChoice::keys(); },
      &ClipChoice::spec,
      &ClipChoice::set,
      &ClipChoice::values,
      [] {
        return std::vector<FieldRow>{
            ClipChoice::name_row(),
            {"clip.<option>", "", "", "",
             "the clipper's own keys (max_value, max_norm, norm_type, clipping, percentile, "
             "...): `sculpt list clippers`"}};
      },
      [](const RecipeConfig& r) { clip::resolve_options(r.clip); },
  };
}

void drop_foreign_options(ClipConfig& cfg) { ClipChoice::drop_foreign_options(cfg); }

}  // namespace sculpt::recipe_detail

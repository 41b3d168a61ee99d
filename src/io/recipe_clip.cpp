// [clip] in recipes: the clipper's name decides which other keys exist, so the table checks its
// options against the clipper registry instead of a fields() list.
#include <fmt/format.h>

#include "clip/clipper.h"
#include "core/error.h"
#include "io/recipe_choice.h"

namespace sculpt::recipe_detail {

namespace {

std::vector<FieldRow> clip_rows() {
  return {ClipChoice::name_row(),
          {"clip.<option>", "", "", "",
           "the clipper's own keys (max_value, max_norm, norm_type, clipping, percentile, "
           "...): `sculpt list clippers`"}};
}

}  // namespace

Table clip_table() {
  return ClipChoice::table([] { return ClipChoice::keys(); }, &clip_rows,
                           [](const RecipeConfig& r) { clip::resolve_options(r.clip); });
}

void drop_foreign_options(ClipConfig& cfg) { ClipChoice::drop_foreign_options(cfg); }

}  // namespace sculpt::recipe_detail

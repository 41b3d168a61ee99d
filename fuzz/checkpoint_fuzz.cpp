// Fuzz target: the checkpoint reader on a whole file image (safetensors header length, JSON
// header, dtypes, shapes, offsets tiling the data, the crc32 of the data), then, for an image
// that decodes, what a resume reads from its metadata: the training state (step, epoch, RNG
// streams, plateau state, the clipper's history, the position inside an epoch) and the saved
// recipe, compared with the defaults as a resume compares it with the current recipe.
// The crc32 is checked separately so that a mutation that breaks it still reaches the rest.
#include <optional>

#include "fuzz/fuzz_target.h"
#include "io/checkpoint.h"
#include "io/recipe.h"
#include "io/safetensors.h"
#include "train/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sculpt;
  const std::string_view bytes = fuzz::as_bytes(data, size);
  const std::string where = "fuzz.safetensors";
  std::optional<io::Checkpoint> ck;
  fuzz::expect_clean_errors([&] { ck = io::decode_safetensors(bytes, where); });
  if (!ck) return 0;
  fuzz::expect_clean_errors([&] { io::decode_checkpoint(bytes, where); });
  fuzz::expect_clean_errors([&] { train::get_state(ck->metadata, where); });
  if (const auto it = ck->metadata.find("recipe"); it != ck->metadata.end())
    fuzz::expect_clean_errors([&] {
      train::recipe_differences(parse_recipe(it->second, where + " (recipe)"), RecipeConfig{});
    });
  return 0;
}

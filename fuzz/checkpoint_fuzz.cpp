// Fuzz target: the checkpoint reader's decoder (safetensors header length, JSON header, dtypes,
// shapes, offsets tiling the data) on a whole file image.
#include "fuzz/fuzz_target.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return sculpt::fuzz::expect_clean_errors([&] {
    sculpt::io::decode_safetensors(sculpt::fuzz::as_bytes(data, size), "fuzz.safetensors");
  });
}

// Fuzz target: the IDX reader (plain and gzip) on a whole file image. The expected kind
// (images or labels) follows the input's own magic so that both header shapes are explored;
// inputs whose size is a multiple of 3 also take the max_items path.
#include "data/idx.h"
#include "fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sculpt::data;
  const uint32_t magic = size >= 4 && data[3] == 1 ? kIdxLabelsMagic : kIdxImagesMagic;
  const int64_t max_items = size % 3 == 0 ? 2 : 0;
  return sculpt::fuzz::expect_clean_errors(
      [&] { decode_idx(sculpt::fuzz::as_bytes(data, size), magic, "fuzz.idx", max_items); });
}

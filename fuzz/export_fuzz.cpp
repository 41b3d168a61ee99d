// Fuzz target: the export reader (magic, version, sizes, JSON header, every tensor encoding).
// A random mutation almost never keeps the trailing CRC32 right, so the target rewrites it
// before decoding: otherwise nothing past the checksum would be explored. (The CRC check
// itself is covered by the unit tests.)
#include <zlib.h>

#include <cstring>
#include <string>

#include "fuzz/fuzz_target.h"
#include "infer/export_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(sculpt::fuzz::as_bytes(data, size));
  if (bytes.size() >= 4) {
    const uint32_t crc = static_cast<uint32_t>(crc32_z(
        crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()), bytes.size() - 4));
    std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);
  }
  std::vector<sculpt::infer::StoredInfo> stored;
  return sculpt::fuzz::expect_clean_errors(
      [&] { sculpt::infer::decode_export(bytes, "fuzz.sculpt", &stored); });
}

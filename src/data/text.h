// Text as next-token data: a UTF-8 file (or a directory of them, concatenated in name order,
// skipping fortune's .dat/.u8 index files) becomes token ids over a vocabulary of its characters
// (Unicode code points, in code-point order) or of all 256 bytes; the ids are split by position
// into train | val | test (contiguous, in that order, so no window of one part sees another's
// text), and each part is cut into windows of `steps` ids, `stride` apart. Sample i's input is
// the window, its labels are the window shifted by one: the next token at every position.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/vocabulary.h"

namespace sculpt::data {

struct TextOptions {
  TextVocabulary vocabulary = TextVocabulary::kChar;
  int64_t steps = 64;          // tokens per window
  int64_t stride = 0;          // between window starts; 0: steps (windows do not overlap)
  double val_fraction = 0.1;   // of all tokens, before the test part
  double test_fraction = 0.1;  // of all tokens, at the end
};

struct TextSplits {
  Dataset train, val, test;  // sample_shape {steps}; labels: steps per sample
  Vocabulary vocabulary;
  int64_t tokens = 0;  // in the whole text
};

// Reads `path` (a file or a directory); every error names the file and has a hint: no text,
// invalid UTF-8 (with its byte offset) under kChar, a part of the split shorter than one window.
TextSplits load_text(const std::string& path, const TextOptions& options);

// The code points of UTF-8 `text`; a DataError naming `what` and the byte offset of the first
// invalid sequence.
std::vector<char32_t> decode_utf8(const std::string& text, const std::string& what);
std::string encode_utf8(char32_t c);

}  // namespace sculpt::data

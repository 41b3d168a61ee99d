// Text data: the character and byte vocabularies, the positional split, the windows and their
// next-token labels, and one clear error for each bad input.
#include "data/text.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/error.h"
#include "data_test_util.h"

namespace sculpt::data {
namespace {

std::string write(const testing::TempDir& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir.file(name), std::ios::binary) << text;
  return dir.file(name);
}

// The error load_text throws, or "" when it throws none.
std::string error_of(const std::string& path, const TextOptions& o) {
  try {
    load_text(path, o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(DataText, CharactersWindowsAndNextTokenLabels) {
  testing::TempDir dir;
  // 20 characters, two of them 2-byte UTF-8 ("é") and one 3-byte ("€").
  const std::string text = "abcabcé€abcabcéabcab";
  const std::string path = write(dir, "t.txt", text);
  const TextSplits s =
      load_text(path, {.steps = 4, .stride = 2, .val_fraction = 0.25, .test_fraction = 0.25});
  EXPECT_EQ(s.tokens, 20);
  ASSERT_EQ(s.vocabulary.size(), 5);  // a b c é €, in code-point order
  EXPECT_EQ(s.vocabulary.decode({0, 1, 2, 3, 4}), "abcé€");
  // train: tokens [0, 10): windows at 0, 2, 4 (start + 4 + 1 <= 10); val [10, 15), test [15, 20).
  ASSERT_EQ(s.train.size(), 3);
  EXPECT_EQ(s.train.sample_shape, Shape{4});
  EXPECT_EQ(s.train.positions, 4);
  EXPECT_EQ(s.train.num_classes, 5);
  const std::vector<int32_t> ids = s.vocabulary.encode(text, "text");
  for (int64_t w = 0; w < 3; ++w)
    for (int64_t j = 0; j < 4; ++j) {
      EXPECT_EQ(s.train.x[w * 4 + j], float(ids[size_t(2 * w + j)]));
      EXPECT_EQ(s.train.labels[size_t(w * 4 + j)], ids[size_t(2 * w + j + 1)]);
    }
  EXPECT_EQ(s.val.size(), 1);
  EXPECT_EQ(s.val.x[0], float(ids[10]));
  EXPECT_EQ(s.test.size(), 1);
  EXPECT_EQ(s.test.labels.back(), ids[19]);
  EXPECT_EQ(s.vocabulary.decode(s.vocabulary.encode("é€a", "prompt")), "é€a");
}

TEST(DataText, BytesTakeAnyFileAndADirectoryIsItsFilesInOrder) {
  testing::TempDir dir;
  write(dir, "b.txt", "world\xff");
  write(dir, "a.txt", "hello ");
  write(dir, "a.dat", "index");  // fortune's index files are skipped
  const TextSplits s = load_text(dir.path().string(), {.vocabulary = TextVocabulary::kByte,
                                                       .steps = 2,
                                                       .val_fraction = 0.0,
                                                       .test_fraction = 0.25});
  EXPECT_EQ(s.tokens, 12);
  EXPECT_EQ(s.vocabulary.size(), 256);
  EXPECT_EQ(s.val.size(), 0);
  ASSERT_EQ(s.train.size(), 4);  // tokens [0, 9): windows at 0, 2, 4, 6
  EXPECT_EQ(s.train.x[0], float('h'));
  EXPECT_EQ(s.test.labels.back(), 0xff);
}

TEST(DataText, BadInputGetsOneClearError) {
  testing::TempDir dir;
  const TextOptions o{.steps = 4};
  EXPECT_NE(error_of(write(dir, "empty.txt", ""), o).find("holds no text"), std::string::npos);
  const std::string bad = error_of(write(dir, "latin1.txt", "caf\xe9 au lait"), o);
  EXPECT_NE(bad.find("latin1.txt is not valid UTF-8 at byte 3"), std::string::npos) << bad;
  EXPECT_NE(bad.find("vocabulary = \"byte\""), std::string::npos) << bad;
  for (const std::string overlong : {"\xc0\xaf", "\xed\xa0\x80", "a\x80"})
    EXPECT_NE(error_of(write(dir, "o.txt", overlong + std::string(40, 'a')), o).find("UTF-8"),
              std::string::npos);
  const std::string short_text = error_of(write(dir, "short.txt", "abcdefghij"), {.steps = 64});
  EXPECT_NE(short_text.find("fewer than one window of data.steps = 64"), std::string::npos)
      << short_text;
  EXPECT_NE(error_of(dir.file("missing.txt"), o).find("missing.txt"), std::string::npos);
  EXPECT_NE(error_of(write(dir, "ok.txt", std::string(100, 'a')), {.steps = 0}).find("data.steps"),
            std::string::npos);
  const TextSplits s = load_text(write(dir, "v.txt", std::string(50, 'a') + "b"), o);
  try {
    s.vocabulary.encode("abz", "the prompt");
    ADD_FAILURE() << "no error for a character outside the vocabulary";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("the prompt has the character 'z' (U+007A)"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace sculpt::data

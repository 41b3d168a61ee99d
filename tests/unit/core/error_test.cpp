#include "core/error.h"

#include <gtest/gtest.h>

#include <string>

namespace sculpt {
namespace {

TEST(Error, WhatJoinsWhereWhatAndHint) {
  EXPECT_STREQ(Error("bad value", "r.toml:3", "try 1").what(), "r.toml:3: bad value (hint: try 1)");
  EXPECT_STREQ(DataError("bad value").what(), "bad value");
  EXPECT_EQ(DataError("x").exit_code(), 3);
  EXPECT_EQ(ConfigError("x").exit_code(), 2);
  EXPECT_EQ(NumericError("x").exit_code(), 4);
}

// A file's text quoted in a message can hold any byte; what() stays one line (the fuzz targets'
// rule), while message() keeps the text as given.
TEST(Error, ControlCharactersAreEscapedSoWhatIsOneLine) {
  const DataError e("tensor 'a\nb\tc\x01' is bad", "f\r.bin", "h\x7f");
  EXPECT_STREQ(e.what(), "f\\x0d.bin: tensor 'a\\nb\\tc\\x01' is bad (hint: h\\x7f)");
  EXPECT_EQ(e.message(), "tensor 'a\nb\tc\x01' is bad");
  // UTF-8 passes through unchanged.
  EXPECT_STREQ(DataError("caf\xc3\xa9").what(), "caf\xc3\xa9");
}

}  // namespace
}  // namespace sculpt

// The vocabulary of text data: token ids <-> text (implemented in text.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sculpt::data {

enum class TextVocabulary { kChar, kByte };

// Token ids <-> text. kChar: the sorted code points of the training text; kByte: 0..255.
class Vocabulary {
 public:
  Vocabulary() = default;
  Vocabulary(TextVocabulary kind, std::vector<char32_t> chars)
      : kind_(kind), chars_(std::move(chars)) {}
  TextVocabulary kind() const { return kind_; }
  int64_t size() const { return kind_ == TextVocabulary::kByte ? 256 : int64_t(chars_.size()); }
  const std::vector<char32_t>& chars() const { return chars_; }  // kChar: id -> code point
  bool operator==(const Vocabulary&) const = default;
  // The ids of `text`; a DataError naming `what`, the first character outside the vocabulary
  // and its position, with the characters the vocabulary has (or the byte offset of invalid
  // UTF-8).
  std::vector<int32_t> encode(const std::string& text, const std::string& what) const;
  std::string decode(const std::vector<int32_t>& ids) const;
  // The text of one id (a character's UTF-8, or the byte). Requires an id in [0, size()).
  std::string token_text(int32_t id) const;
  // "perplexity 5.123, 2.357 bits per character" (or byte) for a mean cross-entropy in nats.
  std::string perplexity_text(double loss) const;

 private:
  TextVocabulary kind_ = TextVocabulary::kChar;
  std::vector<char32_t> chars_;  // kChar: id -> code point
};

}  // namespace sculpt::data

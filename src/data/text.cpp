// Text data: UTF-8 decoding (strict: overlong forms, surrogates and stray continuation bytes
// are errors), the vocabulary, the positional split and the windows.
#include "data/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/limits.h"
#include "core/read_file.h"

namespace sculpt::data {

namespace {

constexpr int64_t kMaxTextBytes = int64_t{1} << 28;  // 256 MiB, as a CSV file

std::string read_text(const std::string& path) {
  namespace fs = std::filesystem;
  const FileRead spec{.what = "text file",
                      .max_bytes = kMaxTextBytes,
                      .hint = "data.path names a UTF-8 text file or a directory of them"};
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return read_file_capped(path, spec);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(path, ec)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file(ec) && ext != ".dat" && ext != ".u8") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  SCULPT_CHECK(!files.empty(), DataError, fmt::format("the directory {} holds no text file", path),
               "data.path", "name a text file, or a directory with some");
  std::string all;
  for (const auto& f : files) {
    all += read_file_capped(f.string(), spec);
    SCULPT_CHECK(
        static_cast<int64_t>(all.size()) <= kMaxTextBytes, DataError,
        fmt::format("the text files of {} hold more than {} MiB", path, kMaxTextBytes >> 20),
        "data.path", "use fewer or smaller files");
  }
  return all;
}

// Windows of `steps` ids from ids[begin, end): inputs and next-token labels.
Dataset windows(const std::vector<int32_t>& ids, int64_t begin, int64_t end, int64_t steps,
                int64_t stride, int64_t vocab, const std::string& name) {
  Dataset ds;
  ds.name = name;
  ds.task = Task::kClassification;
  ds.sample_shape = {steps};
  ds.num_classes = vocab;
  ds.positions = steps;
  const int64_t count = end - begin > steps ? (end - begin - steps - 1) / stride + 1 : 0;
  ds.x = Tensor({count, steps});
  ds.labels.resize(static_cast<size_t>(count * steps));
  float* x = ds.x.data();
  for (int64_t w = 0; w < count; ++w)
    for (int64_t j = 0; j < steps; ++j) {
      const int64_t at = begin + w * stride + j;
      x[w * steps + j] = static_cast<float>(ids[static_cast<size_t>(at)]);
      ds.labels[static_cast<size_t>(w * steps + j)] = ids[static_cast<size_t>(at + 1)];
    }
  return ds;
}

}  // namespace

std::vector<char32_t> decode_utf8(const std::string& text, const std::string& what) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  for (size_t i = 0; i < size;) {
    const unsigned char b = p[i];
    int len = 0;
    char32_t c = 0, min = 0;
    if (b < 0x80)
      len = 1, c = b;
    else if ((b & 0xE0) == 0xC0)
      len = 2, c = b & 0x1F, min = 0x80;
    else if ((b & 0xF0) == 0xE0)
      len = 3, c = b & 0x0F, min = 0x800;
    else if ((b & 0xF8) == 0xF0)
      len = 4, c = b & 0x07, min = 0x10000;
    bool ok = len > 0 && i + static_cast<size_t>(len) <= size;
    for (int k = 1; ok && k < len; ++k) {
      ok = (p[i + k] & 0xC0) == 0x80;
      c = (c << 6) | (p[i + k] & 0x3F);
    }
    ok = ok && c >= min && c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF);
    SCULPT_CHECK(ok, DataError,
                 fmt::format("{} is not valid UTF-8 at byte {} (0x{:02x})", what, i, b), "",
                 "convert it to UTF-8 (iconv -t UTF-8), or set data.vocabulary = \"byte\"");
    out.push_back(c);
    i += static_cast<size_t>(len);
  }
  return out;
}

std::string encode_utf8(char32_t c) {
  std::string s;
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else if (c < 0x800) {
    s += static_cast<char>(0xC0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    s += static_cast<char>(0xE0 | (c >> 12));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (c >> 18));
    s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  }
  return s;
}

namespace {

// "the model knows ' !,.?abc...' (73 characters)": a vocabulary's characters, for a hint; a long
// one is cut after the first 100. Control characters are shown as their escapes.
std::string known_characters(const std::vector<char32_t>& chars) {
  constexpr size_t kShown = 100;
  std::string list;
  for (size_t i = 0; i < chars.size() && i < kShown; ++i) {
    if (chars[i] == U'\n')
      list += "\\n";
    else if (chars[i] == U'\t')
      list += "\\t";
    else if (chars[i] >= 0x20)
      list += encode_utf8(chars[i]);
  }
  return fmt::format(
      "the model knows '{}'{} ({} characters); a byte model (data.vocabulary = "
      "\"byte\") takes any text",
      list, chars.size() > kShown ? "..." : "", chars.size());
}

}  // namespace

std::vector<int32_t> Vocabulary::encode(const std::string& text, const std::string& what) const {
  std::vector<int32_t> ids;
  if (kind_ == TextVocabulary::kByte) {
    for (const char ch : text) ids.push_back(static_cast<unsigned char>(ch));
    return ids;
  }
  const std::vector<char32_t> code_points = decode_utf8(text, what);
  for (size_t i = 0; i < code_points.size(); ++i) {
    const char32_t c = code_points[i];
    const auto it = std::lower_bound(chars_.begin(), chars_.end(), c);
    SCULPT_CHECK(it != chars_.end() && *it == c, DataError,
                 fmt::format("{} has the character '{}' (U+{:04X}) at position {} (counting "
                             "characters from 0), which the model's vocabulary does not have",
                             what, encode_utf8(c), static_cast<uint32_t>(c), i),
                 "", known_characters(chars_));
    ids.push_back(static_cast<int32_t>(it - chars_.begin()));
  }
  return ids;
}

std::string Vocabulary::token_text(int32_t id) const {
  if (kind_ == TextVocabulary::kByte) return std::string(1, static_cast<char>(id));
  return encode_utf8(chars_.at(static_cast<size_t>(id)));
}

std::string Vocabulary::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (const int32_t id : ids) out += token_text(id);
  return out;
}

std::string Vocabulary::perplexity_text(double loss) const {
  return fmt::format("perplexity {:.3f}, {:.3f} bits per {}", std::exp(loss), loss / std::log(2.0),
                     kind_ == TextVocabulary::kByte ? "byte" : "character");
}

TextSplits load_text(const std::string& path, const TextOptions& o) {
  SCULPT_CHECK(o.steps >= 1 && o.steps <= (int64_t{1} << 20), ConfigError,
               fmt::format("data.steps must be in [1, 1048576], got {}", o.steps), "data.steps");
  const int64_t stride = o.stride == 0 ? o.steps : o.stride;
  SCULPT_CHECK(stride >= 1, ConfigError,
               fmt::format("data.stride must be >= 0 (0: data.steps), got {}", o.stride),
               "data.stride");
  const std::string text = read_text(path);
  SCULPT_CHECK(!text.empty(), DataError, fmt::format("{} holds no text", path), "data.path",
               "name a file with some text in it");
  TextSplits out;
  if (o.vocabulary == TextVocabulary::kChar) {
    std::vector<char32_t> chars = decode_utf8(text, path);
    std::sort(chars.begin(), chars.end());
    chars.erase(std::unique(chars.begin(), chars.end()), chars.end());
    out.vocabulary = Vocabulary(TextVocabulary::kChar, std::move(chars));
  } else {
    out.vocabulary = Vocabulary(TextVocabulary::kByte, {});
  }
  const std::vector<int32_t> ids = out.vocabulary.encode(text, path);
  const auto total = static_cast<int64_t>(ids.size());
  out.tokens = total;
  // By position: train | val | test.
  const auto test_len = static_cast<int64_t>(static_cast<double>(total) * o.test_fraction);
  const auto val_len = static_cast<int64_t>(static_cast<double>(total) * o.val_fraction);
  const int64_t train_end = total - test_len - val_len, val_end = total - test_len;
  const struct {
    const char* part;
    int64_t begin, end;
    double fraction;
  } parts[] = {{"train", 0, train_end, 1.0},
               {"val", train_end, val_end, o.val_fraction},
               {"test", val_end, total, o.test_fraction}};
  for (const auto& p : parts) {
    if (p.fraction == 0.0) continue;  // no validation part asked for
    SCULPT_CHECK(p.end - p.begin > o.steps, DataError,
                 fmt::format("the {} part of {} has {} tokens, fewer than one window of "
                             "data.steps = {} and its next token",
                             p.part, path, p.end - p.begin, o.steps),
                 "data.steps", "use a shorter data.steps, a longer text or larger fractions");
    const int64_t windows_count = (p.end - p.begin - o.steps - 1) / stride + 1;
    SCULPT_CHECK(mul_sat(windows_count, o.steps) <= kMaxTensorNumel, DataError,
                 fmt::format("{} windows of {} tokens in the {} part of {} exceed {}",
                             windows_count, o.steps, p.part, path, kMaxTensorText),
                 "data.stride", "use a larger data.stride");
  }
  const int64_t vocab = out.vocabulary.size();
  out.train = windows(ids, 0, train_end, o.steps, stride, vocab, path + "/train");
  out.val = windows(ids, train_end, val_end, o.steps, stride, vocab, path + "/val");
  out.test = windows(ids, val_end, total, o.steps, stride, vocab, path + "/test");
  return out;
}

}  // namespace sculpt::data

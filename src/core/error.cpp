#include "core/error.h"

namespace sculpt {

namespace {

// The length of the well-formed UTF-8 sequence starting at s[i] (a byte >= 0x80), 0 if none.
size_t utf8_length(const std::string& s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char lead = b(0);
  const size_t n = lead >= 0xc2 && lead <= 0xdf   ? 2
                   : lead >= 0xe0 && lead <= 0xef ? 3
                   : lead >= 0xf0 && lead <= 0xf4 ? 4
                                                  : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(k) & 0xc0) != 0x80) return 0;
  if ((lead == 0xe0 && b(1) < 0xa0) || (lead == 0xed && b(1) > 0x9f) ||  // overlong, surrogate
      (lead == 0xf0 && b(1) < 0x90) || (lead == 0xf4 && b(1) > 0x8f))
    return 0;
  return n;
}

}  // namespace

std::string Error::compose(const std::string& what, const std::string& where,
                           const std::string& hint) {
  std::string s = where.empty() ? what : where + ": " + what;
  if (!hint.empty()) s += " (hint: " + hint + ")";
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (u < 0x20 || u == 0x7f)
      out += fmt::format("\\x{:02x}", u);
    else if (u < 0x80)
      out += c;
    else if (const size_t n = utf8_length(s, i))
      out.append(s, i, n), i += n - 1;
    else
      out += fmt::format("\\x{:02x}", u);
  }
  return out;
}

}  // namespace sculpt

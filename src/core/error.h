// The error family: every failure a user can cause is a typed sculpt::Error that says what went
// wrong, where (file:field/row) and what to try. The CLI maps the type to an exit code.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace sculpt {

class Error : public std::runtime_error {
 public:
  Error(std::string what, std::string where = {}, std::string hint = {})
      : std::runtime_error(compose(what, where, hint)),
        what_(std::move(what)),
        where_(std::move(where)),
        hint_(std::move(hint)) {}

  const std::string& message() const { return what_; }
  const std::string& where() const { return where_; }
  const std::string& hint() const { return hint_; }
  // 2 usage/config, 3 data/IO, 4 numeric (see ARCHITECTURE.md).
  virtual int exit_code() const { return 1; }
  virtual const char* kind() const { return "error"; }
  // Throws the same kind of error placed inside `outer` ("run/ck.safetensors (recipe): model:
  // ..."): for errors raised by what a file holds, to name the file.
  [[noreturn]] virtual void rethrow_within(const std::string& outer) const {
    throw Error(what_, within(outer), hint_);
  }

 private:
  // One line of text whatever the parts hold: a file's bytes quoted in a message (a tensor
  // name, a metadata value, a CSV cell, the character a parser did not expect) may contain
  // control characters or bytes that are not UTF-8, which are shown escaped (\n, \t, \xNN).
  static std::string compose(const std::string& what, const std::string& where,
                             const std::string& hint) {
    std::string s = where.empty() ? what : where + ": " + what;
    if (!hint.empty()) s += " (hint: " + hint + ")";
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      const auto u = static_cast<unsigned char>(c);
      if (c == '\n') out += "\\n";
      else if (c == '\t') out += "\\t";
      else if (u < 0x20 || u == 0x7f) out += fmt::format("\\x{:02x}", u);
      else if (u < 0x80)
        out += c;
      else if (const size_t n = utf8_length(s, i))
        out.append(s, i, n), i += n - 1;
      else
        out += fmt::format("\\x{:02x}", u);
    }
    return out;
  }
  // The length of the well-formed UTF-8 sequence starting at s[i] (a byte >= 0x80), 0 if none.
  static size_t utf8_length(const std::string& s, size_t i) {
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
  std::string what_, where_, hint_;

 protected:
  std::string within(const std::string& outer) const {
    return where_.empty() ? outer : outer + ": " + where_;
  }
};

#define SCULPT_ERROR_KIND(Name, code, label)                                    \
  class Name : public Error {                                                   \
   public:                                                                      \
    using Error::Error;                                                         \
    int exit_code() const override { return code; }                             \
    const char* kind() const override { return label; }                         \
    [[noreturn]] void rethrow_within(const std::string& outer) const override { \
      throw Name(message(), within(outer), hint());                             \
    }                                                                           \
  }

SCULPT_ERROR_KIND(ConfigError, 2, "config error");
SCULPT_ERROR_KIND(ShapeError, 2, "shape error");
SCULPT_ERROR_KIND(DataError, 3, "data error");
SCULPT_ERROR_KIND(IoError, 3, "I/O error");
SCULPT_ERROR_KIND(NumericError, 4, "numeric error");

#undef SCULPT_ERROR_KIND

// A piece of a file quoted in a message: at most `max` bytes, then "..." (a binary file's
// "cell" can be megabytes long). Error escapes what is not printable.
inline std::string excerpt(std::string_view text, size_t max = 40) {
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, max)) + "...";
}

}  // namespace sculpt

// Always-on check at API boundaries: throws ErrorType(message) when cond is false.
#define SCULPT_CHECK(cond, ErrorType, ...)                       \
  do {                                                           \
    if (!(cond)) throw ErrorType(__VA_ARGS__);                   \
  } while (0)

// Internal invariant inside loops; compiled out of release builds.
#ifdef NDEBUG
#define SCULPT_DCHECK(cond) ((void)0)
#else
#include <cassert>
#define SCULPT_DCHECK(cond) assert(cond)
#endif

// The error family: every failure a user can cause is a typed sculpt::Error that says what went
// wrong, where (file:field/row) and what to try. The CLI maps the type to an exit code.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

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
  // One line whatever the parts hold: a file's text quoted in a message (a tensor name, a
  // metadata value, the character a parser did not expect) may contain control characters,
  // which are shown escaped (\n, \t, \xNN).
  static std::string compose(const std::string& what, const std::string& where,
                             const std::string& hint) {
    std::string s = where.empty() ? what : where + ": " + what;
    if (!hint.empty()) s += " (hint: " + hint + ")";
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '\n') out += "\\n";
      else if (c == '\t') out += "\\t";
      else if (u < 0x20 || u == 0x7f) out += fmt::format("\\x{:02x}", u);
      else out += c;
    }
    return out;
  }
  std::string what_, where_, hint_;

 protected:
  std::string within(const std::string& outer) const {
    return where_.empty() ? outer : outer + ": " + where_;
  }
};

#define SCULPT_ERROR_KIND(Name, code, label)                      \
  class Name : public Error {                                     \
   public:                                                        \
    using Error::Error;                                           \
    int exit_code() const override { return code; }               \
    const char* kind() const override { return label; }           \
    [[noreturn]] void rethrow_within(const std::string& outer) const override { \
      throw Name(message(), within(outer), hint());               \
    }                                                             \
  }

SCULPT_ERROR_KIND(ConfigError, 2, "config error");
SCULPT_ERROR_KIND(ShapeError, 2, "shape error");
SCULPT_ERROR_KIND(DataError, 3, "data error");
SCULPT_ERROR_KIND(IoError, 3, "I/O error");
SCULPT_ERROR_KIND(NumericError, 4, "numeric error");

#undef SCULPT_ERROR_KIND

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

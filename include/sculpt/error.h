// The errors Sculpt throws. Every failure a user can cause is a sculpt::Error that says what
// went wrong, where (file:field/row) and what to try; what() is that one line. The subclass
// says the kind, and exit_code() the status `sculpt` exits with: 2 usage/config, 3 data/IO,
// 4 numeric.
#pragma once

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
  virtual int exit_code() const { return 1; }
  virtual const char* kind() const { return "error"; }
  // Throws the same kind of error placed inside `outer` ("run/ck.safetensors (recipe): model:
  // ..."): for errors raised by what a file holds, to name the file.
  [[noreturn]] virtual void rethrow_within(const std::string& outer) const {
    throw Error(what_, within(outer), hint_);
  }

 private:
  // "where: what (hint: hint)" on one line whatever the parts hold: a file's bytes quoted in a
  // message (a tensor name, a CSV cell, the character a parser did not expect) may contain
  // control characters or bytes that are not UTF-8, which are shown escaped (\n, \t, \xNN).
  static std::string compose(const std::string& what, const std::string& where,
                             const std::string& hint);
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

SCULPT_ERROR_KIND(ConfigError, 2, "config error");    // a recipe, an option, an argument
SCULPT_ERROR_KIND(ShapeError, 2, "shape error");      // sizes that do not fit together
SCULPT_ERROR_KIND(DataError, 3, "data error");        // what a file holds
SCULPT_ERROR_KIND(IoError, 3, "I/O error");           // reading or writing a file
SCULPT_ERROR_KIND(NumericError, 4, "numeric error");  // NaN or infinity in training

#undef SCULPT_ERROR_KIND

}  // namespace sculpt

// Field checking, `--set` value parsing and formatting shared by every config struct.
#include "core/fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/error.h"
#include "core/suggest.h"

namespace sculpt {

bool Range::contains(double v) const {
  if (std::isnan(v)) return false;
  const bool lo_ok = min_open ? v > min : v >= min;
  const bool hi_ok = max_open ? v < max : v <= max;
  return lo_ok && hi_ok;
}

bool Range::bounded() const { return std::isfinite(min) || std::isfinite(max); }

std::string Range::describe() const {
  const bool lo = std::isfinite(min), hi = std::isfinite(max);
  if (lo && hi)
    return fmt::format("in {}{}, {}{}", min_open ? '(' : '[', min, max, max_open ? ')' : ']');
  if (lo) return fmt::format("{} {}", min_open ? ">" : ">=", min);
  if (hi) return fmt::format("{} {}", max_open ? "<" : "<=", max);
  return {};
}

Range at_least(double lo) { return Range{.min = lo}; }
Range greater_than(double lo) { return Range{.min = lo, .min_open = true}; }
Range closed(double lo, double hi) { return Range{.min = lo, .max = hi}; }
Range half_open(double lo, double hi) { return Range{.min = lo, .max = hi, .max_open = true}; }

const char* type_name(FieldType t) {
  switch (t) {
    case FieldType::kInt:
    case FieldType::kUint: return "integer";
    case FieldType::kDouble: return "number";
    case FieldType::kBool: return "bool";
    case FieldType::kString: return "string";
    case FieldType::kList: return "list";
  }
  return "?";
}

namespace {

const char* expected_phrase(FieldType t) {
  switch (t) {
    case FieldType::kInt:
    case FieldType::kUint: return "an integer";
    case FieldType::kDouble: return "a number";
    case FieldType::kBool: return "true or false";
    case FieldType::kString: return "a string";
    case FieldType::kList: return "a list of numbers";
  }
  return "?";
}

// "string \"abc\"", "float 1.5", "integer 3", "bool true": what the user actually wrote.
std::string describe_got(const FieldValue& v) {
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "bool true" : "bool false";
  if (const auto* i = std::get_if<int64_t>(&v)) return fmt::format("integer {}", *i);
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("float {}", *d);
  if (const auto* l = std::get_if<NumberList>(&v)) return "list " + format_value(*l);
  return "string " + toml_quote(std::get<std::string>(v));
}

std::string join(const std::vector<std::string>& xs, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < xs.size(); ++i) out += (i ? std::string(sep) : "") + xs[i];
  return out;
}

void check_range(const FieldSpec& f, double x, const std::string& shown, std::string_view key,
                 std::string_view where) {
  if (f.range.bounded()) {
    if (!f.range.contains(x))
      throw ConfigError(fmt::format("{} must be {}, got {}", key, f.range.describe(), shown),
                        std::string(where));
  } else if (!std::isfinite(x)) {
    throw ConfigError(fmt::format("{} must be a finite number, got {}", key, shown),
                      std::string(where));
  }
}

FieldValue check_integer(const FieldSpec& f, const FieldValue& v, std::string_view key,
                         std::string_view where) {
  const auto* i = std::get_if<int64_t>(&v);
  if (!i) throw_wrong_type(f, key, describe_got(v), where);
  if (f.type == FieldType::kUint && *i < 0)
    throw ConfigError(fmt::format("{} must be >= 0, got {}", key, *i), std::string(where));
  check_range(f, static_cast<double>(*i), std::to_string(*i), key, where);
  return v;
}

FieldValue check_double(const FieldSpec& f, const FieldValue& v, std::string_view key,
                        std::string_view where) {
  double x = 0;
  if (const auto* i = std::get_if<int64_t>(&v)) x = static_cast<double>(*i);
  else if (const auto* d = std::get_if<double>(&v)) x = *d;
  else throw_wrong_type(f, key, describe_got(v), where);
  check_range(f, x, fmt::format("{}", x), key, where);
  return x;
}

FieldValue check_string(const FieldSpec& f, const FieldValue& v, std::string_view key,
                        std::string_view where) {
  std::string s;
  if (const auto* p = std::get_if<std::string>(&v)) s = *p;
  else if (f.int_as_string && std::holds_alternative<int64_t>(v)) s = std::to_string(std::get<int64_t>(v));
  else throw_wrong_type(f, key, describe_got(v), where);
  if (!f.choices.empty() && std::find(f.choices.begin(), f.choices.end(), s) == f.choices.end()) {
    std::string hint = did_you_mean(s, f.choices);
    if (hint.empty()) hint = "choose one of: " + join(f.choices, ", ");
    throw ConfigError(fmt::format("{} must be one of {}, got {}", key, join(f.choices, " | "),
                                  toml_quote(s)),
                      std::string(where), hint);
  }
  return s;
}

FieldValue check_list(const FieldSpec& f, const FieldValue& v, std::string_view key,
                      std::string_view where) {
  const auto* l = std::get_if<NumberList>(&v);
  if (!l) throw_wrong_type(f, key, describe_got(v), where);
  for (size_t i = 0; i < l->size(); ++i)
    check_range(f, (*l)[i], fmt::format("{}", (*l)[i]), fmt::format("{}[{}]", key, i), where);
  return v;
}

template <class N>
bool parse_number(std::string_view text, N& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && p == end && !text.empty();
}

}  // namespace

void throw_wrong_type(const FieldSpec& f, std::string_view key, std::string_view got,
                      std::string_view where) {
  throw ConfigError(fmt::format("{} must be {}, got {}", key, expected_phrase(f.type), got),
                    std::string(where));
}

FieldValue check_value(const FieldSpec& f, FieldValue v, std::string_view key,
                       std::string_view where) {
  switch (f.type) {
    case FieldType::kInt:
    case FieldType::kUint: return check_integer(f, v, key, where);
    case FieldType::kDouble: return check_double(f, v, key, where);
    case FieldType::kBool:
      if (!std::holds_alternative<bool>(v)) throw_wrong_type(f, key, describe_got(v), where);
      return v;
    case FieldType::kString: return check_string(f, v, key, where);
    case FieldType::kList: return check_list(f, v, key, where);
  }
  return v;
}

FieldValue parse_value_text(const FieldSpec& f, std::string_view text) {
  if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') &&
      text.back() == text.front())
    return std::string(text.substr(1, text.size() - 2));
  switch (f.type) {
    case FieldType::kBool:
      if (text == "true") return true;
      if (text == "false") return false;
      break;
    case FieldType::kInt:
    case FieldType::kUint:
    case FieldType::kDouble: {
      int64_t i = 0;
      double d = 0;
      if (parse_number(text, i)) return i;
      if (parse_number(text, d)) return d;
      break;
    }
    case FieldType::kList: {
      std::string_view body = text;
      if (body.size() >= 2 && body.front() == '[' && body.back() == ']')
        body = body.substr(1, body.size() - 2);
      NumberList list;
      while (!body.empty()) {
        const size_t comma = body.find(',');
        std::string_view item = body.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        double d = 0;
        if (!parse_number(item, d)) return std::string(text);  // reported as a wrong type
        list.push_back(d);
        if (comma == std::string_view::npos) break;
        body.remove_prefix(comma + 1);
      }
      return list;
    }
    case FieldType::kString: break;
  }
  return std::string(text);
}

std::string toml_quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
          out += fmt::format("\\u{:04X}", static_cast<unsigned char>(c));
        else
          out += c;
    }
  }
  return out + "\"";
}

std::string format_value(const FieldValue& v) {
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* l = std::get_if<NumberList>(&v)) {
    std::string out = "[";
    for (size_t k = 0; k < l->size(); ++k) out += (k ? ", " : "") + format_value((*l)[k]);
    return out + "]";
  }
  if (const auto* d = std::get_if<double>(&v)) {
    // fmt's "{}" prints the shortest text that reads back to the same double.
    std::string s = fmt::format("{}", *d);
    if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // "n": nan and inf
    return s;
  }
  return toml_quote(std::get<std::string>(v));
}

FieldRow describe_field(const FieldSpec& f, std::string_view table, const FieldValue& def) {
  FieldRow row{std::string(table) + "." + f.name, type_name(f.type), format_value(def), {}, f.doc};
  if (!f.choices.empty()) row.allowed = join(f.choices, " | ");
  else if (f.range.bounded()) row.allowed = f.range.describe();
  else if (f.type == FieldType::kUint) row.allowed = ">= 0";
  return row;
}

std::string format_field_rows(const std::vector<FieldRow>& rows) {
  const FieldRow header{"key", "type", "default", "allowed", "meaning"};
  size_t w[4] = {header.key.size(), header.type.size(), header.default_value.size(),
                 header.allowed.size()};
  for (const auto& r : rows) {
    w[0] = std::max(w[0], r.key.size());
    w[1] = std::max(w[1], r.type.size());
    w[2] = std::max(w[2], r.default_value.size());
    w[3] = std::max(w[3], r.allowed.size());
  }
  std::string out;
  auto line = [&](const FieldRow& r) {
    out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {}", r.key, w[0], r.type, w[1],
                       r.default_value, w[2], r.allowed, w[3], r.doc);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out;
}

}  // namespace sculpt

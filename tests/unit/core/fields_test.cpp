// Fields machinery on a small config of its own: ranges, conversions, --set text parsing,
// TOML literals that read back to the same value, and the printable table.
#include "core/fields.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace sculpt {
namespace {

struct DemoConfig {
  int64_t steps = 10;
  uint64_t seed = 7;
  double rate = 0.5;
  bool on = true;
  std::string mode = "fast";
  std::string column = "-1";

  static const std::vector<Field<DemoConfig>>& fields() {
    using C = DemoConfig;
    static const std::vector<Field<C>> f = {
        {"steps", &C::steps, at_least(1), "how many"},
        {"seed", &C::seed, {}, "seed"},
        {"rate", &C::rate, half_open(0, 1), "a fraction"},
        {"on", &C::on, "switch"},
        {"mode", &C::mode, {"fast", "slow"}, "speed"},
        {"column", &C::column, {}, "name or index", /*int_as_string=*/true},
    };
    return f;
  }
};

std::string error_of(const FieldSpec& f, FieldValue v) {
  try {
    check_value(f, std::move(v), "demo.key", "here");
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), "here");
    return e.message();
  }
  return "";
}

const FieldSpec& spec(std::string_view name) { return find_field<DemoConfig>(name)->spec; }

TEST(Fields, RangesIncludeAndExcludeTheirEnds) {
  EXPECT_TRUE(at_least(1).contains(1));
  EXPECT_FALSE(at_least(1).contains(0.999));
  EXPECT_FALSE(greater_than(0).contains(0));
  EXPECT_TRUE(half_open(0, 1).contains(0));
  EXPECT_FALSE(half_open(0, 1).contains(1));
  EXPECT_TRUE(closed(0, 1).contains(1));
  EXPECT_FALSE(closed(0, 1).contains(std::nan("")));
  EXPECT_EQ(half_open(0, 1).describe(), "in [0, 1)");
  EXPECT_EQ(greater_than(0).describe(), "> 0");
  EXPECT_EQ(closed(0, 0.5).describe(), "in [0, 0.5]");
  EXPECT_EQ(Range{}.describe(), "");
}

TEST(Fields, DefaultsComeFromTheStruct) {
  const auto rows = describe_fields<DemoConfig>("demo");
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[0].key, "demo.steps");
  EXPECT_EQ(rows[0].default_value, "10");
  EXPECT_EQ(rows[0].allowed, ">= 1");
  EXPECT_EQ(rows[1].allowed, ">= 0");  // unsigned
  EXPECT_EQ(rows[2].default_value, "0.5");
  EXPECT_EQ(rows[3].default_value, "true");
  EXPECT_EQ(rows[4].default_value, "\"fast\"");
  EXPECT_EQ(rows[4].allowed, "fast | slow");
  const std::string table = format_field_rows(rows);
  EXPECT_EQ(table.substr(0, table.find('\n')), "key          type     default  allowed      meaning");
  EXPECT_NE(table.find("demo.rate    number   0.5      in [0, 1)    a fraction\n"), std::string::npos)
      << table;
}

TEST(Fields, ChecksConvertAndReject) {
  EXPECT_EQ(check_value(spec("rate"), int64_t(0), "k", ""), FieldValue(0.0));  // int -> double
  EXPECT_EQ(check_value(spec("column"), int64_t(3), "k", ""), FieldValue(std::string("3")));
  EXPECT_EQ(error_of(spec("steps"), 0.5), "demo.key must be an integer, got float 0.5");
  EXPECT_EQ(error_of(spec("steps"), int64_t(0)), "demo.key must be >= 1, got 0");
  EXPECT_EQ(error_of(spec("seed"), int64_t(-3)), "demo.key must be >= 0, got -3");
  EXPECT_EQ(error_of(spec("rate"), 1.0), "demo.key must be in [0, 1), got 1");
  EXPECT_EQ(error_of(spec("rate"), true), "demo.key must be a number, got bool true");
  EXPECT_EQ(error_of(spec("on"), std::string("yes")), "demo.key must be true or false, got string \"yes\"");
  EXPECT_EQ(error_of(spec("mode"), std::string("slwo")), "demo.key must be one of fast | slow, got \"slwo\"");
  EXPECT_EQ(error_of(spec("mode"), int64_t(1)), "demo.key must be a string, got integer 1");
}

TEST(Fields, SetValidateAndCompare) {
  DemoConfig c;
  set_field(c, *find_field<DemoConfig>("steps"), int64_t(3), "demo.steps", "");
  set_field(c, *find_field<DemoConfig>("seed"), int64_t(99), "demo.seed", "");
  EXPECT_EQ(c.steps, 3);
  EXPECT_EQ(c.seed, 99u);
  EXPECT_FALSE(fields_equal(c, DemoConfig{}));
  c.rate = 2.0;  // set in code, bypassing parsing
  EXPECT_THROW(validate_fields(c, "demo", "code"), ConfigError);
  EXPECT_EQ(find_field<DemoConfig>("nope"), nullptr);
  EXPECT_EQ(field_names<DemoConfig>().size(), 6u);
}

TEST(Fields, SetTextIsReadByFieldType) {
  EXPECT_EQ(parse_value_text(spec("rate"), "0.1"), FieldValue(0.1));
  EXPECT_EQ(parse_value_text(spec("rate"), "2"), FieldValue(int64_t(2)));
  EXPECT_EQ(parse_value_text(spec("rate"), "+1e-3"), FieldValue(1e-3));
  EXPECT_EQ(parse_value_text(spec("rate"), "abc"), FieldValue(std::string("abc")));
  EXPECT_EQ(parse_value_text(spec("on"), "false"), FieldValue(false));
  EXPECT_EQ(parse_value_text(spec("mode"), "true"), FieldValue(std::string("true")));
  EXPECT_EQ(parse_value_text(spec("mode"), "'slow'"), FieldValue(std::string("slow")));
  EXPECT_EQ(parse_value_text(spec("mode"), "\"a b\""), FieldValue(std::string("a b")));
  EXPECT_EQ(parse_value_text(spec("steps"), "12"), FieldValue(int64_t(12)));
}

TEST(Fields, FloatLiteralsReadBackToTheSameDouble) {
  for (double x : {0.1, 5e-4, 1e-20, 1e300, 3.0, -2.5, 0.1 + 0.2, 123456789.123}) {
    const std::string s = format_value(x);
    EXPECT_NE(s.find_first_of(".e"), std::string::npos) << s;  // stays a TOML float
    EXPECT_EQ(std::strtod(s.c_str(), nullptr), x) << s;
  }
  EXPECT_EQ(format_value(3.0), "3.0");
  EXPECT_EQ(format_value(int64_t(3)), "3");
  EXPECT_EQ(format_value(true), "true");
}

TEST(Fields, StringsAreEscapedForToml) {
  EXPECT_EQ(toml_quote("plain"), "\"plain\"");
  EXPECT_EQ(toml_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(toml_quote("t\tn\n"), "\"t\\tn\\n\"");
  EXPECT_EQ(toml_quote(std::string("\x01", 1)), "\"\\u0001\"");
  EXPECT_EQ(toml_quote("é"), "\"é\"");  // UTF-8 passes through
}

enum class Size { kSmall, kLarge, kHuge };
constexpr Choice<Size> kSizeWords[] = {{Size::kSmall, "a few"}, {Size::kLarge, "many"}};

TEST(Fields, TextInLooksTheValueUpInAnyTable) {
  EXPECT_EQ(text_in(kSizeWords, Size::kLarge), "many");
  EXPECT_EQ(text_in(kSizeWords, Size::kHuge), "?");  // not in the table
}

}  // namespace
}  // namespace sculpt

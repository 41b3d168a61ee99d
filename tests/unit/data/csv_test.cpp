// CSV reader: header detection, target selection, task decision, and every error path with
// file, line and column in the message.
#include "data/csv.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "data_test_util.h"

namespace sculpt::data {
namespace {

class DataCsv : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    const std::string p = dir.file(fmt::format("d{}.csv", count++));
    testing::write_text(p, text);
    return p;
  }
  Dataset load(const std::string& text, CsvOptions opt = {}) { return load_csv(write(text), opt); }

  // Expects E with what() containing every part; `{file}` in a part is replaced by the path.
  template <class E>
  void expect_error(const std::string& text, CsvOptions opt,
                    std::initializer_list<std::string> parts) {
    const std::string p = write(text);
    try {
      load_csv(p, opt);
      ADD_FAILURE() << "no exception for:\n" << text;
    } catch (const E& e) {
      const std::string what = e.what();
      for (std::string part : parts) {
        if (auto at = part.find("{file}"); at != std::string::npos) part.replace(at, 6, p);
        EXPECT_NE(what.find(part), std::string::npos) << "missing '" << part << "' in " << what;
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "wrong exception type: " << e.what();
    }
  }
  testing::TempDir dir;
  int count = 0;
};

TEST_F(DataCsv, HeaderTargetByNameAndAutoClassification) {
  const Dataset ds = load("a, label ,b\n1.5,2,-3\n4,0,5e-1\n7,1,8\n", {.target = "label"});
  EXPECT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.sample_shape, Shape{2});
  EXPECT_EQ(ds.task, Task::kClassification);
  EXPECT_EQ(ds.num_classes, 3);
  EXPECT_EQ(ds.labels, (std::vector<int32_t>{2, 0, 1}));
  const std::vector<float> x = {1.5f, -3.0f, 4.0f, 0.5f, 7.0f, 8.0f};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(ds.x[i], x[static_cast<size_t>(i)]);
}

TEST_F(DataCsv, NoHeaderLastColumnRegression) {
  const Dataset ds = load("1,2,0.25\n3,4,-1.5\n+5,6,2\n");
  EXPECT_EQ(ds.task, Task::kRegression);
  EXPECT_EQ(ds.outputs(), 1);
  EXPECT_EQ(ds.y.shape(), (Shape{3, 1}));
  EXPECT_EQ(ds.y[0], 0.25f);
  EXPECT_EQ(ds.y[1], -1.5f);
  EXPECT_EQ(ds.x[4], 5.0f);
}

TEST_F(DataCsv, TargetByIndexPositiveAndNegative) {
  const std::string text = "0,10,20\n1,11,21\n";
  Dataset first = load(text, {.target = "0"});
  EXPECT_EQ(first.task, Task::kBinary);
  EXPECT_EQ(first.labels, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(first.x[0], 10.0f);
  Dataset middle = load(text, {.target = "-2", .task = "regression"});
  EXPECT_EQ(middle.y[1], 11.0f);
  EXPECT_EQ(middle.x[2], 1.0f);
  EXPECT_EQ(middle.x[3], 21.0f);
}

TEST_F(DataCsv, AutoTaskRules) {
  EXPECT_EQ(load("1,0\n2,1\n3,1\n").task, Task::kBinary);
  EXPECT_EQ(load("1,0\n2,0\n").task, Task::kBinary);
  EXPECT_EQ(load("1,-1\n2,1\n").task, Task::kRegression);  // negative: not labels
  std::string many;
  for (int i = 0; i < 21; ++i) many += std::to_string(i) + "," + std::to_string(i) + "\n";
  EXPECT_EQ(load(many).task, Task::kRegression);  // 21 distinct integers
  many = many.substr(0, many.rfind("20,20"));
  const Dataset twenty = load(many);
  EXPECT_EQ(twenty.task, Task::kClassification);
  EXPECT_EQ(twenty.num_classes, 20);
}

TEST_F(DataCsv, ExplicitHeaderModesAndLineEndings) {
  // Numeric header forced: the first row is names, not data.
  const Dataset yes = load("1,2\r\n3,4\r\n\r\n5,6\r\n", {.header = "yes", .task = "regression"});
  EXPECT_EQ(yes.size(), 2);
  EXPECT_EQ(yes.y[1], 6.0f);
  const Dataset bom = load("\xEF\xBB\xBFx,y\n1,2\n", {.target = "y", .task = "regression"});
  EXPECT_EQ(bom.size(), 1);
  expect_error<DataError>("x,y\n1,2\n", {.header = "no"},
                          {"{file}:1: column 0 has non-numeric value 'x'"});
}

TEST_F(DataCsv, NonNumericCellNamesFileRowAndColumn) {
  expect_error<DataError>("a,b,c\n1,2,3\n4,abc,6\n", {},
                          {"{file}:3: column 'b' has non-numeric value 'abc'"});
  // Blank lines still count in the line number.
  expect_error<DataError>("1,2\n\n3,x\n", {}, {"{file}:3: column 1 has non-numeric value 'x'"});
  expect_error<DataError>("a,b\n1,nan\n", {}, {"{file}:2: column 'b'", "'nan'"});
  expect_error<DataError>("a,b\n1,2\ninf,3\n", {}, {"{file}:3: column 'a'", "'inf'"});
  expect_error<DataError>("a,b\n1,\n", {}, {"{file}:2: column 'b' has non-numeric value ''"});
  // Cells are floats: beyond their range is an error, not an infinity; tiny values are zero.
  expect_error<DataError>("a,b\n1,2\n-1e39,3\n", {},
                          {"{file}:3: column 'a' is outside float's range (3.4e38) '-1e39'"});
  const Dataset tiny = load("a,b\n1e-50,3.4e38\n2,0\n", {.task = "regression"});
  EXPECT_EQ(tiny.x[0], 0.0f);
  EXPECT_EQ(tiny.y[0], 3.4e38f);
}

TEST_F(DataCsv, RaggedRowNamesTheLine) {
  expect_error<DataError>("a,b,c\n1,2,3\n4,5\n", {}, {"{file}:3", "expected 3 columns", "found 2"});
}

TEST_F(DataCsv, EmptyAndHeaderOnlyFiles) {
  expect_error<DataError>("", {}, {"{file}", "empty"});
  expect_error<DataError>("\n  \n", {}, {"{file}", "empty"});
  expect_error<DataError>("a,b\n", {}, {"{file}", "no data rows"});
  expect_error<DataError>("1\n2\n", {}, {"{file}", "at least 2 columns"});
}

TEST_F(DataCsv, TargetNotFound) {
  expect_error<ConfigError>("alpha,beta\n1,2\n", {.target = "bета"}, {"data.target", "{file}"});
  expect_error<ConfigError>("alpha,label\n1,2\n", {.target = "labl"},
                            {"data.target 'labl'", "did you mean 'label'?"});
  expect_error<ConfigError>("alpha,label\n1,2\n", {.target = "y"},
                            {"data.target 'y'", "columns are 'alpha', 'label'"});
  expect_error<ConfigError>("1,2\n", {.target = "label"}, {"{file}", "no header row"});
  expect_error<ConfigError>("1,2\n", {.target = "2"}, {"data.target index 2", "[-2, 2)"});
  expect_error<ConfigError>("1,2\n", {.target = "-3"}, {"data.target index -3"});
}

TEST_F(DataCsv, TargetsThatDoNotFitTheTask) {
  expect_error<DataError>("a,y\n1,0\n2,2.5\n", {.task = "classification"},
                          {"{file}:3: column 'y' has value 2.5", "classification"});
  expect_error<DataError>("a,y\n1,0\n2,1\n3,2\n", {.task = "binary"},
                          {"{file}:4: column 'y' has value 2", "0 or 1"});
  expect_error<DataError>("1,-1\n", {.task = "classification"}, {"{file}:1"});
}

TEST_F(DataCsv, BadOptionsSuggestTheIntendedValue) {
  expect_error<ConfigError>("1,2\n", {.task = "regresion"},
                            {"data.task", "did you mean 'regression'?"});
  expect_error<ConfigError>("1,2\n", {.header = "yse"}, {"data.header"});
}

TEST_F(DataCsv, ParsesTextInMemoryLikeTheFileReader) {
  const std::string text = "a,b,label\n1,2,0\n3,4,1\n5,6,2\n";
  const CsvOptions opt{.target = "label"};
  const Dataset mem = parse_csv(text, "mem.csv", opt);
  const Dataset file = load(text, opt);
  EXPECT_EQ(mem.x.shape(), file.x.shape());
  EXPECT_EQ(mem.labels, file.labels);
  EXPECT_EQ(mem.num_classes, 3);
  EXPECT_EQ(parse_csv_table(text, "mem.csv").names, (std::vector<std::string>{"a", "b", "label"}));
  try {
    parse_csv("a,b\n1,x\n", "mem.csv", {});
    ADD_FAILURE() << "no exception";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("mem.csv:2: column 'b' has non-numeric value 'x'"),
              std::string::npos)
        << e.what();
  }
}

TEST(DataCsvIo, MissingFileIsAnIoError) {
  try {
    load_csv("/nonexistent/x.csv", {});
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.csv: cannot read the CSV file"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace sculpt::data

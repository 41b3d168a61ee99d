// metrics.jsonl: exact line format, omission of absent fields, appending and flushing.
#include "report/metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"

namespace sculpt::report {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// Mirrors train::EpochEvent's fields without depending on the trainer.
struct FakeEval {
  double loss = 0, accuracy = 0;
  int64_t samples = 0;
};
struct FakeEpoch {
  int64_t epoch = 2, step = 938;
  double train_loss = 0.5, train_acc = 0.8;
  FakeEval val, test{0.25, 0.875, 100};
  double seconds = 1.5, samples_per_s = 40000;
};

TEST(Metrics, LineHasOnlyPresentFieldsInFixedOrder) {
  MetricsRecord r;
  r.event = "step";
  r.loss = 0.5;
  r.step = 5;
  r.clipped = 3;
  EXPECT_EQ(to_json_line(r), R"({"event":"step","step":5,"loss":0.5,"clipped":3})");
}

TEST(Metrics, NonFiniteNumbersBecomeNull) {
  MetricsRecord r;
  r.event = "step";
  r.loss = std::nan("");
  r.grad_norm = INFINITY;
  EXPECT_EQ(to_json_line(r), R"({"event":"step","loss":null,"grad_norm":null})");
}

TEST(Metrics, NumbersRoundTripExactly) {
  MetricsRecord r;
  r.event = "eval";
  r.lr = 0.1;
  r.test_acc = 0.8923;
  r.extra["pruned"] = 1234;
  const auto j = nlohmann::json::parse(to_json_line(r));
  EXPECT_EQ(j["lr"].get<double>(), 0.1);
  EXPECT_EQ(j["test_acc"].get<double>(), 0.8923);
  EXPECT_EQ(j["pruned"].get<double>(), 1234.0);
}

TEST(Metrics, LinesReadBackToTheSameRecord) {
  MetricsRecord r{.event = "epoch", .step = 938, .epoch = 2, .loss = 0.1 + 0.2, .test_acc = 1e-7,
                  .clipped = 4};
  r.extra["grad_norm.fc1.weight"] = 3.25;
  r.extra["odd \"key\""] = -1;
  const std::optional<MetricsRecord> back = parse_metrics_line(to_json_line(r));
  ASSERT_TRUE(back.has_value()) << to_json_line(r);
  EXPECT_EQ(back->event, "epoch");
  EXPECT_EQ(back->step, 938);
  EXPECT_EQ(back->epoch, 2);
  EXPECT_EQ(back->loss, 0.1 + 0.2);
  EXPECT_EQ(back->test_acc, 1e-7);
  EXPECT_EQ(back->clipped, 4);
  EXPECT_FALSE(back->lr.has_value());
  EXPECT_EQ(back->extra, r.extra);
  EXPECT_FALSE(parse_metrics_line("{\"event\":\"ep").has_value());
  EXPECT_FALSE(parse_metrics_line("{\"step\":1}").has_value());
}

TEST(Metrics, AppendingReusesTheBuffer) {
  MetricsRecord r{.event = "step", .step = 1, .loss = 0.5, .lr = 0.1, .grad_norm = 2};
  r.extra["clip_norm"] = 1.5;
  std::string line;
  append_json_line(line, r);
  const std::string first = line;
  const size_t capacity = line.capacity();
  line.clear();
  append_json_line(line, r);
  EXPECT_EQ(line, first);
  EXPECT_EQ(line.capacity(), capacity);
  EXPECT_EQ(first, R"({"event":"step","step":1,"loss":0.5,"lr":0.1,"grad_norm":2,"clip_norm":1.5})");
}

TEST(Metrics, WriterAppendsOneFlushedLinePerEvent) {
  const std::string path = (fs::temp_directory_path() /
                            ("sculpt_metrics_" + std::to_string(::getpid()) + ".jsonl")).string();
  fs::remove(path);
  {
    MetricsWriter w(path);
    w.write({.event = "step", .step = 50, .epoch = 1, .loss = 0.7, .train_acc = 0.75, .lr = 0.1});
    EXPECT_EQ(read_lines(path).size(), 1u);  // visible before the writer closes
    w.epoch(FakeEpoch{});
  }
  {
    MetricsWriter w(path);  // reopening appends
    w.end(FakeEpoch{}, 12.5, 38000);
  }
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], R"({"event":"step","step":50,"epoch":1,"loss":0.7,"train_acc":0.75,"lr":0.1})");
  const auto e = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(e["event"], "epoch");
  EXPECT_EQ(e["step"], 938);
  EXPECT_FALSE(e.contains("val_acc"));  // empty validation split: omitted, not 0
  EXPECT_EQ(e["test_acc"].get<double>(), 0.875);
  EXPECT_EQ(e["time_s"].get<double>(), 1.5);
  const auto end = nlohmann::json::parse(lines[2]);
  EXPECT_EQ(end["event"], "end");
  EXPECT_EQ(end["time_s"].get<double>(), 12.5);
  EXPECT_EQ(end["samples_per_s"].get<double>(), 38000.0);
  fs::remove(path);
}

TEST(Metrics, RegressionRecordsHaveNoAccuracies) {
  const auto j = nlohmann::json::parse(
      to_json_line(MetricsWriter::epoch_record("epoch", FakeEpoch{}, /*accuracy=*/false)));
  EXPECT_FALSE(j.contains("train_acc"));
  EXPECT_FALSE(j.contains("test_acc"));
  EXPECT_EQ(j["test_loss"].get<double>(), 0.25);
  EXPECT_EQ(j["loss"].get<double>(), 0.5);
}

TEST(Metrics, UnopenablePathIsIoError) {
  try {
    MetricsWriter w("/nonexistent-dir/metrics.jsonl");
    FAIL() << "no exception";
  } catch (const IoError& e) {
    EXPECT_EQ(e.where(), "/nonexistent-dir/metrics.jsonl");
  }
}

}  // namespace
}  // namespace sculpt::report

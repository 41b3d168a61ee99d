// Progress: the pure formatters (ETA, rate, bar, epoch line) and the running averages the
// writer shows, captured through a memory stream instead of a terminal.
#include "report/progress.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "core/error.h"

namespace sculpt::report {
namespace {

TEST(Progress, FormatEta) {
  EXPECT_EQ(format_eta(0), "0:00");
  EXPECT_EQ(format_eta(42), "0:42");
  EXPECT_EQ(format_eta(59.6), "1:00");
  EXPECT_EQ(format_eta(605), "10:05");
  EXPECT_EQ(format_eta(3723), "1:02:03");
  EXPECT_EQ(format_eta(-1), "--:--");
  EXPECT_EQ(format_eta(std::nan("")), "--:--");
  EXPECT_EQ(format_eta(INFINITY), "--:--");
}

TEST(Progress, FormatRate) {
  EXPECT_EQ(format_rate(0), "0");
  EXPECT_EQ(format_rate(950), "950");
  EXPECT_EQ(format_rate(999.6), "1.0k");
  EXPECT_EQ(format_rate(61234), "61.2k");
  EXPECT_EQ(format_rate(999960), "1.00M");
  EXPECT_EQ(format_rate(1.5e6), "1.50M");
  EXPECT_EQ(format_rate(std::nan("")), "?");
}

TEST(Progress, RenderBar) {
  BarState s;
  s.epoch = 3;
  s.epochs = 10;
  s.step = 234;
  s.steps = 469;
  s.loss = 0.41234;
  s.acc = 0.8523;
  s.lr = 0.1;
  s.samples_per_s = 61234;
  s.eta_s = 42;
  // 234/469 of ten cells is 4.99: four full cells (never show more than was done).
  EXPECT_EQ(render_bar(s),
            "epoch 3/10 [####......] 234/469 loss 0.4123 acc 85.2% lr 0.1 61.2k samples/s ETA 0:42");
  s.acc.reset();
  s.step = s.steps;
  s.lr = 5e-4;
  s.eta_s = -1;
  EXPECT_EQ(render_bar(s),
            "epoch 3/10 [##########] 469/469 loss 0.4123 lr 0.0005 61.2k samples/s ETA --:--");
}

TEST(Progress, EpochLine) {
  EpochSummary s;
  s.epoch = 3;
  s.epochs = 10;
  s.train_loss = 0.4123;
  s.train_acc = 0.852;
  s.val_acc = 0.86;
  s.test_acc = 0.857;
  s.seconds = 12.34;
  s.samples_per_s = 61000;
  EXPECT_EQ(format_epoch_line(s),
            "epoch 3/10  loss 0.4123  train 85.2%  val 86.0%  test 85.7%  12.3s  61.0k samples/s");
  EpochSummary r;  // regression: losses instead of accuracies
  r.epoch = 1;
  r.epochs = 30;
  r.train_loss = 0.0123;
  r.val_loss = 0.0131;
  r.test_loss = 0.01254;
  r.seconds = 0.05;
  r.samples_per_s = 200000;
  EXPECT_EQ(format_epoch_line(r),
            "epoch 1/30  loss 0.0123  val loss 0.0131  test loss 0.01254  0.1s  200.0k samples/s");
}

TEST(Progress, ModeResolution) {
  EXPECT_EQ(resolve_progress_mode("auto", true), ProgressMode::kBar);
  EXPECT_EQ(resolve_progress_mode("auto", false), ProgressMode::kPlain);
  EXPECT_EQ(resolve_progress_mode("bar", false), ProgressMode::kBar);
  EXPECT_EQ(resolve_progress_mode("none", true), ProgressMode::kNone);
  EXPECT_THROW(resolve_progress_mode("fancy", true), ConfigError);
}

// Captures what a Progress writes.
struct Capture {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  std::string text() {
    std::fflush(f);
    return std::string(buf, len);
  }
  ~Capture() {
    std::fclose(f);
    std::free(buf);
  }
};

TEST(Progress, BarShowsSampleWeightedRunningMeansAndEndsWithTheEpochLine) {
  Capture cap;
  {
    Progress p("bar", 2, /*accuracy=*/true, cap.f);
    p.tick(1, 1, 3, 1.0, 1, 2, 0.1);
    p.tick(1, 2, 3, 2.0, 2, 2, 0.1);
    p.tick(1, 3, 3, 4.0, 1, 1, 0.1);  // last step of the epoch: always drawn
    const std::string bar = cap.text();
    // loss (1*2 + 2*2 + 4*1) / 5 = 2, accuracy 4/5.
    EXPECT_EQ(bar.rfind("\repoch 1/2 [##########] 3/3 loss 2 acc 80.0% lr 0.1 ", 0), 0u) << bar;
    EXPECT_EQ(bar.find('\n'), std::string::npos);
    EpochSummary s;
    s.epoch = 1;
    s.epochs = 2;
    s.seconds = 2.5;
    p.epoch_end(s);
    EXPECT_EQ(p.train_seconds(), 2.5);
  }
  const std::string out = cap.text();
  EXPECT_NE(out.find("\repoch 1/2  loss 0"), std::string::npos) << out;
  EXPECT_EQ(out.back(), '\n');
}

TEST(Progress, PlainAndNoneModes) {
  Capture plain, none;
  Progress p("plain", 1, /*accuracy=*/false, plain.f);
  Progress q("none", 1, /*accuracy=*/false, none.f);
  for (int i = 1; i <= 20; ++i) {
    p.tick(1, i, 20, 0.5, 0, 4, 0.1);
    q.tick(1, i, 20, 0.5, 0, 4, 0.1);
  }
  EpochSummary s;
  s.epoch = 1;
  s.epochs = 1;
  s.seconds = 1.0;
  p.epoch_end(s);
  q.epoch_end(s);
  // A fast epoch prints only its summary line (step lines are rate-limited to one per 5 s).
  EXPECT_EQ(plain.text(), "epoch 1/1  loss 0  1.0s  0 samples/s\n");
  EXPECT_EQ(none.text(), "");
  EXPECT_EQ(q.train_seconds(), 1.0);  // still counted when silent
}

}  // namespace
}  // namespace sculpt::report

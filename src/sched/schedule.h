// Schedule: the learning rate as a pure function of the step (Optax style). Families (step,
// cosine, warmup, ...) plug in through make_schedule; the foundation ships the constant rate.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sculpt {
struct ScheduleConfig;
}

namespace sculpt::sched {

class Schedule {
 public:
  virtual ~Schedule() = default;
  // Requires step >= 0. Ensures a finite value >= 0; same step, same value.
  virtual double at(int64_t step) const = 0;
};

// eta_t = eta_0
class Constant final : public Schedule {
 public:
  explicit Constant(double lr) : lr_(lr) {}
  double at(int64_t) const override { return lr_; }

 private:
  double lr_;
};

// Staircase decay: eta_t = eta_0 * gamma^floor(t / k), a new value every k steps (k > 0).
// With k = 7 epochs of steps and gamma = 0.1 over a 10-epoch run this is PyTorch's
// MultiStepLR(milestones=[7], gamma=0.1) stepped per epoch.
class Step final : public Schedule {
 public:
  Step(double lr, int64_t every, double gamma) : lr_(lr), every_(every), gamma_(gamma) {}
  double at(int64_t step) const override {
    return lr_ * std::pow(gamma_, static_cast<double>(step / every_));
  }

 private:
  double lr_;
  int64_t every_;
  double gamma_;
};

// Builds the schedule named by cfg.name around the base rate lr. Epoch-based settings are
// converted with `steps_per_epoch` (> 0).
std::unique_ptr<Schedule> make_schedule(const ScheduleConfig& cfg, double lr,
                                        int64_t steps_per_epoch);
std::vector<std::string> schedule_names();

}  // namespace sculpt::sched

// Schedule: the learning rate as a pure function of the step (Optax style). Families (step,
// cosine, warmup, ...) plug in through make_schedule; the foundation ships the constant rate.
#pragma once

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

// Builds the schedule named by cfg.name around the base rate lr. `total_steps` is the run's
// length (schedules that decay over the run need it).
std::unique_ptr<Schedule> make_schedule(const ScheduleConfig& cfg, double lr, int64_t total_steps);
std::vector<std::string> schedule_names();

}  // namespace sculpt::sched

// The schedule registry: one row per family.
#include "core/error.h"
#include "io/recipe.h"
#include "sched/schedule.h"

namespace sculpt::sched {

std::unique_ptr<Schedule> make_schedule(const ScheduleConfig& cfg, double lr,
                                        int64_t steps_per_epoch) {
  if (cfg.name == "constant") return std::make_unique<Constant>(lr);
  if (cfg.name == "step")
    return std::make_unique<Step>(lr, cfg.step_epochs * steps_per_epoch, cfg.gamma);
  throw ConfigError("unknown schedule '" + cfg.name + "'", "schedule.name",
                    "run `sculpt list schedules` to see the choices");
}

std::vector<std::string> schedule_names() { return {"constant", "step"}; }

}  // namespace sculpt::sched

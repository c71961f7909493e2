#include "commands.h"

namespace stacklens::headless {

void addPlannedCommands(CLI::App& app) {
  struct Planned {
    const char* name;
    const char* description;
  };
  static constexpr Planned kPlanned[] = {
      {"predictive-alerter", "Run the predictive alerter (ml-anomalies in; predictive-alerts and PostgreSQL out)"},
  };
  for (const auto& planned : kPlanned) {
    CLI::App* sub = app.add_subcommand(planned.name, planned.description);
    sub->allow_extras();
    sub->callback(
        [name = std::string(planned.name)] { failCommand(name, "not available in this build yet", kExitBadInput); });
  }
}

}  // namespace stacklens::headless

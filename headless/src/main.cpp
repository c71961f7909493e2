// stacklens: the headless build of StackLens.
#include <iostream>
#include <string>

#include "stacklens/core/version.h"

#include "commands.h"

namespace {

std::string versionText(const CLI::App& app) {
  std::string text = std::string("stacklens ") + stacklens::kVersion + " (git " + stacklens::kGitRevision + ")\n";
  text += "subcommands:";
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) text += " " + sub->get_name();
  return text;
}

}  // namespace

namespace stacklens::headless {

void failCommand(std::string_view command, std::string_view message, int exitCode) {
  std::cerr << "stacklens " << command << ": " << message << '\n';
  throw CLI::RuntimeError(exitCode);
}

}  // namespace stacklens::headless

int main(int argc, char** argv) {
  CLI::App app{
      "StackLens: anomaly detection and forecasting for service metrics.\n"
      "Production services, command-line tools and evaluation, one engine.",
      "stacklens"};
  app.require_subcommand(0, 1);
  app.footer("Run 'stacklens SUBCOMMAND --help' for the options of a subcommand.");

  stacklens::headless::addPredictiveAlerterCommand(app);
  stacklens::headless::addMlServiceCommand(app);
  stacklens::headless::addSimulateCommand(app);
  stacklens::headless::addReplayCommand(app);
  stacklens::headless::addMockClusterCommand(app);
  stacklens::headless::addDbCommand(app);
  stacklens::headless::addHealthcheckCommand(app);
  stacklens::headless::addDetectCommand(app);
  stacklens::headless::addForecastCommand(app);
  CLI::App* eval = app.add_subcommand("eval", "Evaluate on public benchmarks (NAB, M4)");
  eval->require_subcommand(1);
  stacklens::headless::addEvalNabCommand(*eval);
  stacklens::headless::addEvalM4Command(*eval);

  bool showVersion = false;
  app.add_flag("-V,--version", showVersion, "Print the version and the subcommands, then exit");

  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // the command printed its message
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : stacklens::headless::kExitBadInput;
  }
  if (showVersion) {
    std::cout << versionText(app) << '\n';
    return 0;
  }
  if (app.get_subcommands().empty()) {
    std::cout << app.help();
    return 0;
  }
  return 0;
}

#include "service/stop_signal.h"

#include <atomic>
#include <csignal>

namespace stacklens::headless::service {
namespace {

std::atomic<bool> stopFlag{false};

void onStopSignal(int signal) {
  stopFlag.store(true);
  std::signal(signal, SIG_DFL);
}

}  // namespace

void installStopSignals() {
  std::signal(SIGTERM, onStopSignal);
  std::signal(SIGINT, onStopSignal);
}

bool stopRequested() { return stopFlag.load(); }

}  // namespace stacklens::headless::service

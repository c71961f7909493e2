#pragma once
// The one thing a service built on ServiceRuntime implements: turning a batch of input messages
// into BatchOutput.

#include <span>

#include "service/batch_output.h"
#include "stacklens/connect/kafka_client.h"

namespace stacklens::headless::service {

class BatchHandler {
 public:
  virtual ~BatchHandler() = default;

  /// Called on the consumer thread for every batch, in partition order per key. `batch` may be
  /// empty (a tick when nothing arrived within the poll interval, about every 100 ms), so work
  /// finished in the background (e.g. a retrained model) can be written. A bad message must be
  /// dead-lettered (out.deadLetter), not thrown: an exception ends the service without committing
  /// the batch (it is consumed again after the restart).
  virtual void handle(std::span<const connect::KafkaMessage> batch, BatchOutput& out) = 0;

  /// Called once when the service stops, after the last batch: add what is still pending.
  virtual void finish(BatchOutput& /*out*/) {}
};

}  // namespace stacklens::headless::service

#pragma once
// What one batch of input messages must make durable before its offsets are committed: the
// PostgreSQL writes, the messages to produce and the dead letters. A service's BatchHandler
// fills it; the ServiceRuntime carries it out (writes first, then the messages, then the commit).

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "stacklens/connect/kafka_client.h"
#include "stacklens/connect/pg_store.h"

namespace stacklens::headless::service {

struct OutgoingMessage {
  std::string topic;
  std::string key;
  std::string value;
};

class BatchOutput {
 public:
  /// An idempotent PostgreSQL write (one PgStore call, e.g. writeAnomalies). The runtime retries
  /// it with backoff while the database is unreachable, so it may run more than once.
  using Write = std::function<void(connect::PgStore&)>;

  /// `deadLetterTopic`: where deadLetter() sends; empty drops dead letters after logging them.
  explicit BatchOutput(std::string deadLetterTopic = {}) : deadLetterTopic_(std::move(deadLetterTopic)) {}

  /// `what` names the write in logs ("ml_anomalies: 12 rows").
  void write(std::string what, Write action) { writes_.push_back({std::move(what), std::move(action)}); }

  /// Produced after every write has succeeded; delivered (acknowledged) before the commit.
  void produce(std::string topic, std::string key, std::string value) {
    messages_.push_back({std::move(topic), std::move(key), std::move(value)});
  }

  /// Sends `message` to the dead-letter topic with `reason` (connect::encodeDeadLetter), keyed
  /// as the original; counted in stacklens_dlq_total.
  void deadLetter(const connect::KafkaMessage& message, std::string_view reason);

  struct NamedWrite {
    std::string what;
    Write action;
  };
  const std::vector<NamedWrite>& writes() const { return writes_; }
  const std::vector<OutgoingMessage>& messages() const { return messages_; }
  std::size_t deadLetters() const { return deadLetters_; }
  bool empty() const { return writes_.empty() && messages_.empty(); }

 private:
  std::string deadLetterTopic_;
  std::vector<NamedWrite> writes_;
  std::vector<OutgoingMessage> messages_;
  std::size_t deadLetters_ = 0;
};

}  // namespace stacklens::headless::service

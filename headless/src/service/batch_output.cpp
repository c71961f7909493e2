#include "service/batch_output.h"

#include <spdlog/spdlog.h>

#include "stacklens/connect/message_codec.h"

namespace stacklens::headless::service {

void BatchOutput::deadLetter(const connect::KafkaMessage& message, std::string_view reason) {
  ++deadLetters_;
  spdlog::warn("dead letter {}[{}]@{}: {}", message.topic, message.partition, message.offset, reason);
  if (deadLetterTopic_.empty()) return;
  produce(deadLetterTopic_, message.key,
          connect::encodeDeadLetter(message.value, reason, message.topic, message.partition, message.offset));
}

}  // namespace stacklens::headless::service

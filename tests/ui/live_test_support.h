#pragma once
// Helpers of the Live and Shadow tests: the real `stacklens` CLI producing a simulated stream to
// the harness's mock cluster, and a record of everything the live tail delivered.

#include <QProcess>
#include <QtTest>
#include <map>
#include <string>
#include <vector>

#include "stacklens/ui/connected/live_tail.h"

namespace stacklens::test {

/// `stacklens simulate` with `arguments` producing to `topic` on the mock cluster; the exit code
/// (-1 when it did not end within two minutes), its output in `log`.
inline int simulateToKafka(const QString& bootstrap, const QString& topic, const QStringList& arguments,
                           QString* log = nullptr) {
  QProcess process;
  process.setProcessChannelMode(QProcess::MergedChannels);
  process.start(QStringLiteral(STACKLENS_BIN_DIR "/stacklens"),
                QStringList{"simulate", "--kafka", bootstrap, "--topic", topic} + arguments);
  const bool done = process.waitForFinished(120000);
  if (log) *log = QString::fromUtf8(process.readAll());
  return done && process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
}

/// Every message a LiveTail delivered, by topic and partition, in delivery order.
class TailRecorder {
 public:
  explicit TailRecorder(ui::LiveTail* tail) {
    QObject::connect(tail, &ui::LiveTail::messagesArrived, tail, [this](const QList<ui::TailMessage>& batch) {
      for (const ui::TailMessage& m : batch) byPartition_[{m.topic, m.partition}].push_back(m);
    });
  }
  int count(const QString& topic) const {
    int n = 0;
    for (const auto& [key, messages] : byPartition_)
      if (key.first == topic) n += static_cast<int>(messages.size());
    return n;
  }
  const std::map<std::pair<QString, int>, std::vector<ui::TailMessage>>& byPartition() const { return byPartition_; }

 private:
  std::map<std::pair<QString, int>, std::vector<ui::TailMessage>> byPartition_;
};

}  // namespace stacklens::test

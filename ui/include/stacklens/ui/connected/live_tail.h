#pragma once
// Tails production topics (analytics-alerts, ml-anomalies, predictive-alerts) without disturbing
// production's consumers: the partitions are ASSIGNED (no group join, so no rebalance of anyone),
// the client's group id is private to this workbench, auto-commit is off and nothing ever commits.
// Partitions that exist at start are read from their end at that moment (only newer messages);
// partitions that appear later (a topic created meanwhile) from their beginning. Messages reach the GUI thread
// in batches, at most 25 times a second.

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QObject>
#include <QStringList>
#include <QTimer>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "stacklens/connect/kafka_client.h"
#include "stacklens/ui/connected/connection_profile.h"

namespace stacklens::ui {

struct TailMessage {
  QString topic;
  int partition = -1;
  qint64 offset = -1;
  QString key;
  QByteArray value;
  QDateTime time;  ///< the message's timestamp (UTC), or when it was received
};

class LiveTail : public QObject {
  Q_OBJECT
 public:
  /// analytics-alerts, ml-anomalies, predictive-alerts.
  static const QStringList& productionTopics();
  /// The consumer's librdkafka properties: the profile's connection and security settings, a
  /// private group id, enable.auto.commit=false and enable.auto.offset.store=false.
  static connect::KafkaProperties consumerProperties(const KafkaProfile& profile, const QString& password);

  explicit LiveTail(QObject* parent = nullptr);
  ~LiveTail() override;

  /// Starts tailing `topics` (stops a running tail first). Errors arrive through failed().
  void start(const KafkaProfile& profile, const QString& password, const QStringList& topics = productionTopics());
  void stop();
  bool isRunning() const { return worker_.joinable(); }
  /// How often partitions are looked up again (new topics, more partitions); default 2 s.
  void setRefreshInterval(std::chrono::milliseconds interval) { refresh_ = interval; }
  /// Partitions currently read.
  int assignedPartitions() const { return assigned_.load(); }
  /// True once the topics were looked up the first time: every message produced from then on
  /// to an existing or a new partition will be received.
  bool isReady() const { return ready_.load(); }
  qint64 received() const { return received_.load(); }
  /// The private group id of the running (or last) tail.
  QString groupId() const { return groupId_; }

 signals:
  void messagesArrived(const QList<stacklens::ui::TailMessage>& batch);
  void failed(const QString& message);

 private:
  void run(connect::KafkaProperties properties, QStringList topics);
  void deliver();

  std::thread worker_;
  std::atomic<bool> stop_{false};
  std::atomic<int> assigned_{0};
  std::atomic<bool> ready_{false};
  std::atomic<qint64> received_{0};
  std::chrono::milliseconds refresh_{2000};
  std::mutex mutex_;
  QList<TailMessage> pending_;
  QString error_;
  QString groupId_;
  QTimer deliverTimer_;
};

}  // namespace stacklens::ui

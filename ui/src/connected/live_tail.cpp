#include "stacklens/ui/connected/live_tail.h"

#include <set>
#include <utility>
#include <unistd.h>

namespace stacklens::ui {

using namespace std::chrono_literals;

const QStringList& LiveTail::productionTopics() {
  static const QStringList topics{"analytics-alerts", "ml-anomalies", "predictive-alerts"};
  return topics;
}

connect::KafkaProperties LiveTail::consumerProperties(const KafkaProfile& profile, const QString& password) {
  static std::atomic<int> counter{0};
  connect::KafkaProperties p{
      {"bootstrap.servers", profile.bootstrapServers.toStdString()},
      {"security.protocol", profile.securityProtocol.toStdString()},
      {"client.id", "stacklens-workbench-tail"},
      // Never a production group: private to this process, and nothing commits in it anyway.
      {"group.id", "stacklens-workbench-tail-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      // A partition that appears while tailing is read from its beginning; if that offset cannot be
      // looked up at first (no leader yet), librdkafka's reset must not jump to the end instead.
      {"auto.offset.reset", "earliest"},
      // Topics created while tailing: librdkafka's own metadata must learn their leaders soon.
      {"topic.metadata.refresh.interval.ms", "2000"},
  };
  if (profile.securityProtocol.startsWith("sasl")) {
    p["sasl.mechanisms"] = profile.saslMechanism.toStdString();
    p["sasl.username"] = profile.saslUser.toStdString();
    p["sasl.password"] = password.toStdString();
  }
  if (!profile.caLocation.isEmpty()) p["ssl.ca.location"] = profile.caLocation.toStdString();
  return p;
}

LiveTail::LiveTail(QObject* parent) : QObject(parent) {
  qRegisterMetaType<QList<stacklens::ui::TailMessage>>();
  deliverTimer_.setInterval(40);  // ≤ 25 updates a second
  connect(&deliverTimer_, &QTimer::timeout, this, &LiveTail::deliver);
}

LiveTail::~LiveTail() { stop(); }

void LiveTail::start(const KafkaProfile& profile, const QString& password, const QStringList& topics) {
  stop();
  stop_ = false;
  ready_ = false;
  received_ = 0;
  connect::KafkaProperties properties = consumerProperties(profile, password);
  groupId_ = QString::fromStdString(properties.at("group.id"));
  worker_ = std::thread(&LiveTail::run, this, std::move(properties), topics);
  deliverTimer_.start();
}

void LiveTail::stop() {
  if (!worker_.joinable()) return;
  stop_ = true;
  worker_.join();
  deliverTimer_.stop();
  deliver();
  assigned_ = 0;
}

void LiveTail::deliver() {
  QList<TailMessage> batch;
  QString error;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
    error.swap(error_);
  }
  if (!error.isEmpty()) emit failed(error);
  if (!batch.isEmpty()) emit messagesArrived(batch);
}

void LiveTail::run(connect::KafkaProperties properties, QStringList topics) {
  auto report = [this](const QString& message) {
    std::lock_guard lock(mutex_);
    error_ = message;
  };
  try {
    connect::KafkaConsumer consumer(properties);
    std::set<std::pair<std::string, int>> known;  // partitions being read (or to be: `unassigned`)
    std::vector<connect::KafkaConsumer::PartitionStart> unassigned;  // whose assignment failed
    bool first = true;
    auto lastRefresh = std::chrono::steady_clock::time_point{};
    while (!stop_) {
      if (std::chrono::steady_clock::now() - lastRefresh >= refresh_) {
        lastRefresh = std::chrono::steady_clock::now();
        std::vector<connect::KafkaConsumer::PartitionStart> added = std::exchange(unassigned, {});
        for (const QString& topic : topics) {
          const std::string name = topic.toStdString();
          try {
            const int count = consumer.partitionCount(name, 2s);
            for (int p = 0; p < count; ++p) {
              if (known.contains({name, p})) continue;
              // The end as it is now, not "the end" resolved later: nothing produced from now on is missed.
              // A partition that appeared while tailing starts at offset 0 (earliest after a reset,
              // see auto.offset.reset).
              added.push_back({name, p, first ? consumer.endOffset(name, p, 5s) : 0});
              known.insert({name, p});
            }
          } catch (const connect::KafkaError& e) {
            report(QString::fromStdString(e.what()));
          }
        }
        if (!added.empty()) {
          try {
            consumer.addPartitions(added);
            assigned_ = static_cast<int>(known.size());
          } catch (const connect::KafkaError& e) {  // say so, and try them again (same starts) next time
            report(QString::fromStdString(e.what()));
            unassigned = std::move(added);
          }
        }
        first = false;
        ready_ = true;
      }
      std::optional<connect::KafkaMessage> message;
      try {
        message = consumer.poll(100ms);
      } catch (const connect::KafkaError& e) {  // e.g. a partition not available yet: say so, keep tailing
        report(QString::fromStdString(e.what()));
        std::this_thread::sleep_for(100ms);
        continue;
      }
      if (!message) continue;
      TailMessage m{QString::fromStdString(message->topic), message->partition, message->offset,
                    QString::fromStdString(message->key), QByteArray::fromStdString(message->value),
                    message->timestampMs >= 0 ? QDateTime::fromMSecsSinceEpoch(message->timestampMs, Qt::UTC)
                                              : QDateTime::currentDateTimeUtc()};
      ++received_;
      std::lock_guard lock(mutex_);
      pending_.push_back(std::move(m));
    }
  } catch (const std::exception& e) {
    report(QStringLiteral("live tail stopped: %1").arg(QString::fromStdString(e.what())));
  }
}

}  // namespace stacklens::ui

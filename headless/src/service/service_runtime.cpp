#include "service/service_runtime.h"

#include <algorithm>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <thread>
#include <vector>

#include "stacklens/connect/pg_connection.h"

#include "service/backoff.h"
#include "service/durability_stage.h"
#include "service/readiness_probe.h"
#include "service/stop_signal.h"

namespace stacklens::headless::service {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kPollInterval{100};
constexpr milliseconds kFlushSlice{1000};
constexpr std::chrono::seconds kLagInterval{1};
constexpr std::chrono::seconds kTrimInterval{1};

// librdkafka prefetches up to 64 MiB of messages (queued.max.messages.kbytes) in fetches of up
// to 50 MiB by default: more than a batch needs, and resident. But a queue that is too small stalls
// a backlog: once it is full, librdkafka 2.0 stops fetching and looks again only when its broker
// thread next wakes, up to a second later, while the service empties the queue in a fraction of
// that (measured with 8 MiB / 20,000 messages: a 0.4-0.5 s gap every second, 16,200 msg/s; with
// 32 MiB / 100,000: no gaps, 23,400 msg/s, settled RSS the same). The configuration's
// kafka.properties override these.
void limitPrefetch(connect::KafkaProperties& properties) {
  if (!properties.contains("queued.max.messages.kbytes")) properties["queued.max.messages.kbytes"] = "32768";
  if (!properties.contains("queued.min.messages")) properties["queued.min.messages"] = "100000";
  if (!properties.contains("fetch.max.bytes")) properties["fetch.max.bytes"] = "4194304";
}

// How long a fetch may wait for data. A Kafka broker answers a waiting fetch as soon as data
// arrives, but librdkafka's mock cluster (tests, demo, benchmarks) holds an empty fetch for the
// whole wait even when messages arrive meanwhile: at the default 500 ms, that is up to half a
// second of message latency per partition leader. 10 ms costs a real broker at most a hundred
// empty fetches a second per broker while the input is idle.
void limitFetchWait(connect::KafkaProperties& properties) {
  if (!properties.contains("fetch.wait.max.ms")) properties["fetch.wait.max.ms"] = "10";
}

// Finer than latencyBucketsSeconds() between 1 and 100 ms, where the service's latency lives, so
// that a p99 read from the histogram is within a few milliseconds.
std::vector<double> messageLatencyBucketsSeconds() {
  return {0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05,
          0.075, 0.1,   0.15,  0.2,   0.3,    0.5,  1,     2.5,  5,     10,   30};
}

Histogram& stepHistogram(MetricsRegistry& metrics, const std::string& step) {
  return metrics.histogram("stacklens_batch_step_seconds",
                           "Time of one step of a batch: collect, handle, wait (for room in the durability stage), "
                           "postgres, kafka (produce and acknowledgements), commit",
                           messageLatencyBucketsSeconds(), {{"step", step}});
}

// Times a step into its histogram when the scope ends.
class StepTimer {
 public:
  explicit StepTimer(Histogram& histogram) : histogram_(histogram), started_(Clock::now()) {}
  ~StepTimer() { histogram_.observe(std::chrono::duration<double>(Clock::now() - started_).count()); }
  StepTimer(const StepTimer&) = delete;
  StepTimer& operator=(const StepTimer&) = delete;

 private:
  Histogram& histogram_;
  Clock::time_point started_;
};

// librdkafka's syslog levels into the service's (JSON) log.
void routeKafkaLogs() {
  connect::setKafkaLogHandler([](int level, const std::string& facility, const std::string& message) {
    if (facility == "CONFWARN") level = 7;  // one property list serves producer and consumer
    const auto spdLevel = level <= 3   ? spdlog::level::err
                          : level == 4 ? spdlog::level::warn
                          : level <= 6 ? spdlog::level::info
                                       : spdlog::level::debug;
    spdlog::log(spdLevel, "kafka {}: {}", facility, message);
  });
}

connect::KafkaProperties producerProperties(const connect::ServiceConfig& config) {
  connect::KafkaProperties properties = config.kafka.properties;
  properties["bootstrap.servers"] = config.kafka.bootstrapServers;
  return properties;
}

connect::KafkaProperties consumerProperties(const connect::ServiceConfig& config, const ServiceIdentity& identity) {
  connect::KafkaProperties properties = producerProperties(config);
  properties["group.id"] = config.kafka.groupId.empty() ? "stacklens-" + identity.name : config.kafka.groupId;
  if (!properties.contains("auto.offset.reset")) properties["auto.offset.reset"] = "earliest";
  // The loop commits after the outputs are durable; an automatic commit would break that.
  if (properties.contains("enable.auto.commit") && properties["enable.auto.commit"] != "false")
    spdlog::warn("kafka.properties.enable.auto.commit ignored: offsets are committed after the writes");
  properties["enable.auto.commit"] = "false";
  properties["enable.partition.eof"] = "false";
  limitPrefetch(properties);
  limitFetchWait(properties);
  return properties;
}

// The PgStore's own retries give up after a few seconds here: the loop above retries for as long
// as it takes, and checks for a stop between attempts.
connect::PgSettings storeSettings(const connect::ServiceConfig& config, const ServiceIdentity& identity) {
  connect::PgSettings settings = config.postgres;
  settings.applicationName = "stacklens-" + identity.name;
  settings.retry.maxElapsed = std::min(settings.retry.maxElapsed, milliseconds(10000));
  return settings;
}

}  // namespace

struct ServiceRuntime::Health {
  ReadinessProbe probe;
  HealthServer server;
  Health(const MetricsRegistry& metrics, const connect::KafkaProducer& producer, connect::PgSettings postgres)
      : probe(producer, std::move(postgres)), server(metrics, [this] { return probe.check(); }) {}
};

// One run of the loop: the metrics it keeps and the retry discipline.
struct ServiceRuntime::Loop {
  ServiceRuntime& runtime;
  BatchHandler& handler;
  Counter& in;
  Counter& dlq;
  Counter& batches;
  Gauge& lag;
  Gauge& assigned;
  Counter& pgRetries;
  std::uint64_t pgRetriesSeen = 0;
  Histogram& latency;
  Histogram& queued;
  Histogram& batchSeconds;
  // Where a batch's time goes, one series per step: collect, handle, wait (for room among the
  // batches in flight), postgres, kafka (produce + acknowledgements), commit.
  Histogram& collectSeconds;
  Histogram& handleSeconds;
  Histogram& waitSeconds;
  Histogram& postgresSeconds;
  Histogram& kafkaSeconds;
  Histogram& commitSeconds;
  std::optional<Clock::time_point> stopDeadline;
  Clock::time_point lagUpdatedAt{};
  std::string lastPollError;
  Clock::time_point lastPollErrorAt{};
  Clock::time_point lastTrim = Clock::now();
  // Set when the consumer thread fails: the batch in flight stops retrying at its next failure.
  std::atomic<bool> abandon{false};
  // Last member: destroyed first, so the batch in flight finishes before the rest goes.
  DurabilityStage stage;

  Loop(ServiceRuntime& r, BatchHandler& h)
      : runtime(r),
        handler(h),
        in(r.metrics_.counter("stacklens_messages_in_total", "Messages consumed from the input topic")),
        dlq(r.metrics_.counter("stacklens_dlq_total", "Invalid messages sent to the dead-letter topic")),
        batches(r.metrics_.counter("stacklens_batches_total", "Batches processed, written and committed")),
        lag(r.metrics_.gauge("stacklens_consumer_lag", "Messages behind the end of the assigned partitions")),
        assigned(r.metrics_.gauge("stacklens_assigned_partitions", "Input partitions assigned to this instance")),
        pgRetries(r.metrics_.counter("stacklens_pg_retries_total",
                                     "PostgreSQL transactions repeated by the store after losing the server")),
        latency(r.metrics_.histogram("stacklens_message_latency_seconds",
                                     "From the message's timestamp until its outputs are durable and committed",
                                     messageLatencyBucketsSeconds())),
        // The part of the latency spent before the service took the message: in the producer,
        // the brokers and the consumer's fetch queue (and, under load, the backlog).
        queued(r.metrics_.histogram("stacklens_message_queued_seconds",
                                    "From the message's timestamp until the service took it from the consumer",
                                    messageLatencyBucketsSeconds())),
        batchSeconds(r.metrics_.histogram("stacklens_batch_seconds", "Processing, writing and committing one batch",
                                          latencyBucketsSeconds())),
        collectSeconds(stepHistogram(r.metrics_, "collect")),
        handleSeconds(stepHistogram(r.metrics_, "handle")),
        waitSeconds(stepHistogram(r.metrics_, "wait")),
        postgresSeconds(stepHistogram(r.metrics_, "postgres")),
        kafkaSeconds(stepHistogram(r.metrics_, "kafka")),
        commitSeconds(stepHistogram(r.metrics_, "commit")),
        stage(static_cast<std::size_t>(r.identity_.batchesInFlight)) {
    runtime.stage_ = &stage;
  }
  ~Loop() { runtime.stage_ = nullptr; }

  // Retries `attempt` while it fails for a reason that passes (database or brokers away). Gives
  // up on a failure that cannot pass, or when a stop was requested and the drain time is over.
  template <typename Attempt>
  bool retry(const std::string& what, Attempt&& attempt) {
    Backoff backoff;
    Counter& retries =
        runtime.metrics_.counter("stacklens_retries_total", "Attempts repeated after a failure", {{"what", what}});
    for (;;) {
      try {
        attempt();
        return true;
      } catch (const connect::PgError& e) {
        if (!e.retryable()) {
          spdlog::error("{}: {}", what, e.what());
          return false;
        }
        spdlog::warn("{}: {}; retrying", what, e.what());
      } catch (const connect::KafkaError& e) {
        spdlog::warn("{}: {}; retrying", what, e.what());
      }
      retries.increment();
      if (abandon) {
        spdlog::error("{}: given up, the service is stopping after a failure; the batch stays uncommitted", what);
        return false;
      }
      if (runtime.stopping()) {
        if (!stopDeadline) stopDeadline = Clock::now() + runtime.drainTimeout_;
        if (Clock::now() >= *stopDeadline) {
          spdlog::error("{}: still failing when the drain time ran out; the batch stays uncommitted", what);
          return false;
        }
      }
      std::this_thread::sleep_for(backoff.next());
    }
  }

  bool makeDurable(const BatchOutput& out) {
    {
      const StepTimer timer(postgresSeconds);
      for (const auto& write : out.writes())
        if (!retry("postgres " + write.what, [&] { write.action(*runtime.store_); })) return false;
    }
    const auto& messages = out.messages();
    if (messages.empty()) return true;
    const StepTimer timer(kafkaSeconds);
    connect::KafkaProducer& producer = *runtime.producer_;
    std::size_t produced = 0;
    int failedBefore = producer.failedDeliveries();
    const bool delivered = retry("kafka delivery", [&] {
      for (; produced < messages.size(); ++produced)
        producer.produce(messages[produced].topic, messages[produced].key, messages[produced].value);
      producer.flush(kFlushSlice);
      if (const int failed = producer.failedDeliveries() - failedBefore; failed > 0) {
        produced = 0;  // which ones failed is not known: produce the batch's messages again
        failedBefore = producer.failedDeliveries();
        throw connect::KafkaError(std::to_string(failed) + " messages were not delivered");
      }
    });
    if (!delivered) return false;
    for (const OutgoingMessage& message : messages)
      runtime.metrics_
          .counter("stacklens_messages_out_total", "Messages produced, by topic", {{"topic", message.topic}})
          .increment();
    return true;
  }

  // The offsets to commit once `batch` is durable: the next offset of each partition in it. The
  // consumer has read further meanwhile, so its positions would commit too much.
  static std::vector<connect::KafkaConsumer::PartitionStart> nextOffsets(
      const std::vector<connect::KafkaMessage>& batch) {
    std::vector<connect::KafkaConsumer::PartitionStart> offsets;
    for (const connect::KafkaMessage& m : batch) {
      const auto it = std::find_if(offsets.begin(), offsets.end(),
                                   [&](const auto& p) { return p.partition == m.partition && p.topic == m.topic; });
      if (it == offsets.end())
        offsets.push_back({m.topic, m.partition, m.offset + 1});
      else
        it->offset = std::max(it->offset, m.offset + 1);
    }
    return offsets;
  }

  bool commit(const std::vector<connect::KafkaConsumer::PartitionStart>& offsets) {
    const StepTimer timer(commitSeconds);
    return retry("kafka commit", [&] {
      if (runtime.consumer_->commit(offsets) == connect::KafkaConsumer::CommitResult::kRebalanced)
        spdlog::info("commit skipped: the partitions were reassigned; their new owner consumes them again");
    });
  }

  // On the durability stage's thread: steps 2-4 of one batch.
  bool complete(const std::vector<connect::KafkaMessage>& batch, const BatchOutput& out, Clock::time_point started) {
    if (!makeDurable(out)) return false;
    if (batch.empty()) return true;
    if (!commit(nextOffsets(batch))) return false;
    observe(batch, started, out.deadLetters());
    return true;
  }

  void collect(std::vector<connect::KafkaMessage>& batch) {
    const ServiceIdentity& id = runtime.identity_;
    std::optional<Clock::time_point> deadline;
    while (batch.size() < static_cast<std::size_t>(id.batchSize)) {
      milliseconds wait = kPollInterval;
      if (deadline) {
        wait = std::chrono::duration_cast<milliseconds>(*deadline - Clock::now());
        if (wait <= milliseconds::zero()) break;
      }
      std::optional<connect::KafkaMessage> message;
      try {
        message = runtime.consumer_->poll(wait);
      } catch (const connect::KafkaError& e) {  // e.g. the topic does not exist yet
        if (e.what() != lastPollError || Clock::now() - lastPollErrorAt > std::chrono::seconds(30)) {
          spdlog::warn("{}", e.what());
          lastPollError = e.what();
          lastPollErrorAt = Clock::now();
        }
        if (!deadline) return;
        continue;
      }
      if (!message) {
        if (!deadline) return;  // nothing arrived: an empty tick
        continue;
      }
      batch.push_back(std::move(*message));
      if (!deadline) deadline = Clock::now() + id.batchTimeout;
    }
  }

  static std::int64_t epochMs() {
    return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }

  // Each message's age now (from its Kafka timestamp, where it has one) into `histogram`.
  static void observeAges(Histogram& histogram, const std::vector<connect::KafkaMessage>& batch) {
    const std::int64_t nowMs = epochMs();
    for (const auto& message : batch)
      if (message.timestampMs >= 0) histogram.observe(static_cast<double>(nowMs - message.timestampMs) / 1000.0);
  }

  void observe(const std::vector<connect::KafkaMessage>& batch, Clock::time_point started, std::size_t deadLetters) {
    in.increment(static_cast<double>(batch.size()));
    dlq.increment(static_cast<double>(deadLetters));
    batches.increment();
    batchSeconds.observe(std::chrono::duration<double>(Clock::now() - started).count());
    observeAges(latency, batch);
  }

  void updateGauges() {
    if (Clock::now() - lagUpdatedAt < kLagInterval) return;
    lagUpdatedAt = Clock::now();
    lag.set(static_cast<double>(runtime.consumer_->lag()));
    assigned.set(runtime.consumer_->assignedPartitions());
    const std::uint64_t retried = runtime.store_->statistics().retries;
    pgRetries.increment(static_cast<double>(retried - pgRetriesSeen));
    pgRetriesSeen = retried;
  }

  // Leaves the group on every way out: a member that failed should hand its partitions over at
  // once rather than after the session timeout.
  int run() {
    const int code = loop();
    runtime.consumer_->close();
    spdlog::info("left the consumer group; {}", code == 0 ? "stopped cleanly" : "stopped after a failure");
    return code;
  }

  // glibc keeps freed memory in its arenas: model refits on the worker thread and large batches
  // leave hundreds of MB free but resident (measured: RSS doubled over a burst of refits).
  // malloc_trim returns the free pages of every arena to the OS; it costs a few ms, so at most
  // every kTrimInterval.
  void releaseFreedMemory() {
    if (Clock::now() - lastTrim < kTrimInterval) return;
    malloc_trim(0);
    lastTrim = Clock::now();
  }

  int loop() {
    const auto batchSize = static_cast<std::size_t>(runtime.identity_.batchSize);
    while (!runtime.stopping()) {
      std::vector<connect::KafkaMessage> batch;
      batch.reserve(batchSize);
      const auto collecting = Clock::now();
      collect(batch);
      observeAges(queued, batch);
      const auto started = Clock::now();
      BatchOutput out(runtime.identity_.deadLetterTopic);
      try {
        handler.handle(batch, out);
        if (!batch.empty()) {  // empty ticks are idle time, not steps of a batch
          collectSeconds.observe(std::chrono::duration<double>(started - collecting).count());
          handleSeconds.observe(std::chrono::duration<double>(Clock::now() - started).count());
        }
      } catch (const std::exception& e) {
        spdlog::error("handling a batch of {} messages failed: {}; stopping without committing it", batch.size(),
                      e.what());
        abandon = true;
        stage.wait();
        return 1;
      }
      if (!batch.empty() || !out.empty()) {
        // Waits while identity.batchesInFlight batches are in flight; this one becomes durable
        // (after those before it) while the next ones are collected and handled.
        const StepTimer timer(waitSeconds);
        const bool accepted = stage.submit([this, batch = std::move(batch), out = std::move(out), started] {
          return complete(batch, out, started);
        });
        if (!accepted) return 1;
      } else if (stage.failed()) {
        return 1;
      }
      updateGauges();
      releaseFreedMemory();
    }
    spdlog::info("stop requested: finishing");
    if (!stage.wait()) return 1;
    BatchOutput out(runtime.identity_.deadLetterTopic);
    try {
      handler.finish(out);
    } catch (const std::exception& e) {
      spdlog::error("finishing failed: {}", e.what());
      return 1;
    }
    return makeDurable(out) ? 0 : 1;
  }
};

ServiceRuntime::ServiceRuntime(connect::ServiceConfig config, ServiceIdentity identity)
    : config_(std::move(config)), identity_(std::move(identity)) {
  routeKafkaLogs();
  store_ = std::make_unique<connect::PgStore>(storeSettings(config_, identity_));
  producer_ = std::make_unique<connect::KafkaProducer>(producerProperties(config_));
  consumer_ = std::make_unique<connect::KafkaConsumer>(consumerProperties(config_, identity_));
  consumer_->subscribe({identity_.inputTopic});
  health_ = std::make_unique<Health>(metrics_, *producer_, config_.postgres);
  const int port = config_.http.port != 0 ? config_.http.port : identity_.defaultHttpPort;
  health_->server.start(config_.http.bind, port);
  spdlog::info("{} started: consuming {} in group {}, http {}:{}", identity_.name, identity_.inputTopic,
               config_.kafka.groupId.empty() ? "stacklens-" + identity_.name : config_.kafka.groupId, config_.http.bind,
               health_->server.port());
}

ServiceRuntime::~ServiceRuntime() {
  if (health_) health_->server.stop();
}

bool ServiceRuntime::stopping() const {
  return stop_ || stopRequested();
}

bool ServiceRuntime::awaitOutputs() {
  return stage_ == nullptr || stage_->wait();
}

int ServiceRuntime::httpPort() const {
  return health_->server.port();
}

int ServiceRuntime::run(BatchHandler& handler) {
  installStopSignals();
  Loop loop(*this, handler);
  return loop.run();
}

}  // namespace stacklens::headless::service

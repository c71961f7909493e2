// The services' durability stage: batches handed over run one after another in order, up to
// maxInFlight of them are accepted while the first is still being written (so the consumer
// thread goes on scoring), the next submit waits for room, and after a failure no later batch
// runs (its offsets would be committed past the failed one) and nothing more is accepted.
#include <QtTest>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "gate.h"
#include "service/durability_stage.h"

using namespace std::chrono_literals;
using stacklens::headless::service::DurabilityStage;
using stacklens::test::Gate;

class TestDurabilityStage : public QObject {
  Q_OBJECT

 private slots:
  void acceptsUpToMaxInFlightWhileTheFirstRunsAndKeepsTheirOrder() {
    Gate release, firstRunning;
    std::mutex mutex;
    std::vector<int> order;
    const auto record = [&](int i) {
      const std::lock_guard lock(mutex);
      order.push_back(i);
    };
    DurabilityStage stage(3);
    QVERIFY(stage.submit([&] {
      firstRunning.open();
      release.waitOpen(5s);
      record(0);
      return true;
    }));
    QVERIFY(firstRunning.waitOpen(5s));
    // Two more fit beside the running one without waiting (the held one would keep them 5 s).
    const auto before = std::chrono::steady_clock::now();
    QVERIFY(stage.submit([&] { return record(1), true; }));
    QVERIFY(stage.submit([&] { return record(2), true; }));
    QVERIFY(std::chrono::steady_clock::now() - before < 2s);
    // A fourth waits for room: it is still waiting while the first is held.
    std::atomic<bool> fourthAccepted{false};
    std::thread fourth([&] { fourthAccepted = stage.submit([&] { return record(3), true; }); });
    std::this_thread::sleep_for(100ms);
    QVERIFY(!fourthAccepted.load());
    QVERIFY(order.empty());
    release.open();
    fourth.join();
    QVERIFY(fourthAccepted.load());
    QVERIFY(stage.wait());
    QCOMPARE(order, (std::vector<int>{0, 1, 2, 3}));
  }

  void oneInFlightWaitsForThePreviousBatch() {
    Gate release, firstRunning;
    DurabilityStage stage(1);
    QVERIFY(stage.submit([&] {
      firstRunning.open();
      return release.waitOpen(5s);
    }));
    QVERIFY(firstRunning.waitOpen(5s));
    std::atomic<bool> secondAccepted{false};
    std::thread second([&] { secondAccepted = stage.submit([] { return true; }); });
    std::this_thread::sleep_for(100ms);
    QVERIFY(!secondAccepted.load());
    release.open();
    second.join();
    QVERIFY(secondAccepted.load());
    QVERIFY(stage.wait());
  }

  void aFailureStopsTheBatchesQueuedBehindIt() {
    Gate release, firstRunning;
    std::atomic<int> laterRan{0};
    DurabilityStage stage(4);
    QVERIFY(stage.submit([&] {
      firstRunning.open();
      release.waitOpen(5s);
      return false;  // could not be made durable
    }));
    QVERIFY(firstRunning.waitOpen(5s));
    QVERIFY(stage.submit([&] { return ++laterRan, true; }));
    QVERIFY(stage.submit([&] {
      ++laterRan;
      throw std::runtime_error("never reached");
      return true;
    }));
    QVERIFY(!stage.failed());
    release.open();
    QVERIFY(!stage.wait());
    QVERIFY(stage.failed());
    QCOMPARE(laterRan.load(), 0);
    QVERIFY(!stage.submit([&] { return ++laterRan, true; }));
    QCOMPARE(laterRan.load(), 0);
  }

  void anExceptionCountsAsAFailure() {
    DurabilityStage stage(2);
    QVERIFY(stage.submit([]() -> bool { throw std::runtime_error("database gone"); }));
    QVERIFY(!stage.wait());
    QVERIFY(stage.failed());
  }
};

QTEST_GUILESS_MAIN(TestDurabilityStage)
#include "test_durability_stage.moc"

// The ml-service's background refit threads: refits of different services run side by side (a
// fleet reaches its refits in the same hour), one thread keeps submission order, the backlog
// counts queued and running refits, and shutting down finishes what was queued.
#include <QtTest>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gate.h"
#include "ml_service/refit_worker.h"

using namespace std::chrono_literals;
using stacklens::headless::ml_service::RefitWorker;
using stacklens::test::Gate;

class TestRefitWorker : public QObject {
  Q_OBJECT

 private slots:
  void refitsRunSideBySide() {
    std::atomic<int> started{0};
    Gate bothStarted;
    std::atomic<int> sawBoth{0};
    {
      RefitWorker worker(2);
      QCOMPARE(worker.threads(), 2);
      auto submit = worker.executor();
      for (int i = 0; i < 2; ++i)
        submit([&] {
          if (started.fetch_add(1) + 1 == 2) bothStarted.open();
          if (bothStarted.waitOpen(5s)) sawBoth.fetch_add(1);
        });
    }
    QCOMPARE(sawBoth.load(), 2);  // with one thread the first task would wait alone until its time-out
  }

  void oneThreadKeepsSubmissionOrder() {
    std::vector<int> order;
    {
      RefitWorker worker(1);
      auto submit = worker.executor();
      for (int i = 0; i < 50; ++i) submit([&order, i] { order.push_back(i); });
    }
    QCOMPARE(static_cast<int>(order.size()), 50);
    for (int i = 0; i < 50; ++i) QCOMPARE(order[static_cast<std::size_t>(i)], i);
  }

  void backlogCountsQueuedAndRunningAndShutdownFinishesThem() {
    Gate release;
    Gate firstRunning;
    std::atomic<int> ran{0};
    {
      RefitWorker worker(1);
      auto submit = worker.executor();
      submit([&] {
        firstRunning.open();
        release.waitOpen(5s);
        ran.fetch_add(1);
      });
      for (int i = 0; i < 3; ++i) submit([&] { ran.fetch_add(1); });
      QVERIFY(firstRunning.waitOpen(5s));
      QCOMPARE(worker.backlog(), std::size_t{4});
      release.open();
    }  // the destructor runs the three queued tasks before joining
    QCOMPARE(ran.load(), 4);
  }

  void zeroThreadsMeansOnePerCore() {
    const RefitWorker worker(0);
    QCOMPARE(worker.threads(), static_cast<int>(std::max(1U, std::thread::hardware_concurrency())));
  }
};

QTEST_GUILESS_MAIN(TestRefitWorker)
#include "test_refit_worker.moc"

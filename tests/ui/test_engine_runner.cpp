// The tuning panel's background runner: latest request wins, stale results never arrive, the
// event loop stays free while the engine works, and cancel stops a run.
#include <QSignalSpy>
#include <QTimer>
#include <QtTest>
#include <thread>

#include "stacklens/ui/tuning/engine_runner.h"

using namespace stacklens::ui;

namespace {

// A job that works for `ms` milliseconds in small steps, stopping early when cancelled, and
// labels its result with `tag`.
EngineRunner::Job slowJob(int ms, const std::string& tag, std::atomic<int>* stoppedEarly = nullptr) {
  return [=](const CancelFlag& cancelled) {
    for (int i = 0; i < ms; ++i) {
      if (cancelled.load()) {
        if (stoppedEarly) ++*stoppedEarly;
        return ServiceResults{};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ServiceResults r;
    r.note = tag;
    return r;
  };
}

}  // namespace

class TestEngineRunner : public QObject {
  Q_OBJECT
 private slots:
  void deliversTheResultWithoutBlockingTheEventLoop() {
    EngineRunner runner;
    QSignalSpy ready(&runner, &EngineRunner::resultReady);
    int ticks = 0;
    QTimer timer;
    connect(&timer, &QTimer::timeout, [&] { ++ticks; });
    timer.start(5);
    const int generation = runner.submit(slowJob(150, "a"));
    QVERIFY(runner.busy());
    QVERIFY(ready.wait(5000));
    QCOMPARE(ready.takeFirst().at(0).toInt(), generation);
    QCOMPARE(runner.result().note, std::string("a"));
    QVERIFY(runner.resultMilliseconds() >= 150);
    QVERIFY2(ticks >= 5, qPrintable(QString::number(ticks)));  // the GUI thread kept running
  }

  void latestRequestWinsAndStaleRunsAreCancelled() {
    EngineRunner runner;
    QSignalSpy ready(&runner, &EngineRunner::resultReady);
    QSignalSpy dropped(&runner, &EngineRunner::dropped);
    std::atomic<int> stoppedEarly{0};
    runner.submit(slowJob(2000, "first", &stoppedEarly));
    QTest::qWait(20);                                     // "first" is running now
    runner.submit(slowJob(50, "second", &stoppedEarly));  // cancels first, waits
    runner.submit(slowJob(50, "third", &stoppedEarly));   // replaces second before it starts
    QVERIFY(ready.wait(5000));
    runner.waitForIdle();
    QCOMPARE(ready.count(), 1);
    QCOMPARE(ready.at(0).at(0).toInt(), 3);
    QCOMPARE(runner.result().note, std::string("third"));
    QCOMPARE(stoppedEarly.load(), 1);  // "first" saw its flag and stopped
    QCOMPARE(runner.runsStarted(), 2);  // "second" never ran
    QCOMPARE(dropped.count(), 2);
  }

  void cancelStopsTheRunAndDeliversNothing() {
    EngineRunner runner;
    QSignalSpy ready(&runner, &EngineRunner::resultReady);
    QSignalSpy idle(&runner, &EngineRunner::idle);
    std::atomic<int> stoppedEarly{0};
    QElapsedTimer clock;
    clock.start();
    runner.submit(slowJob(5000, "never", &stoppedEarly));
    QTest::qWait(20);
    runner.cancel();
    QVERIFY(idle.wait(5000));
    QVERIFY(clock.elapsed() < 2000);
    QCOMPARE(ready.count(), 0);
    QCOMPARE(stoppedEarly.load(), 1);
    QVERIFY(!runner.busy());
  }

  void reportsFailures() {
    EngineRunner runner;
    QSignalSpy failed(&runner, &EngineRunner::failed);
    runner.submit([](const CancelFlag&) -> ServiceResults { throw std::invalid_argument("order (9,9,9) is too big"); });
    QVERIFY(failed.wait(5000));
    QCOMPARE(failed.at(0).at(1).toString(), QString("order (9,9,9) is too big"));
  }
};

QTEST_GUILESS_MAIN(TestEngineRunner)
#include "test_engine_runner.moc"

// The ml-service's scoring lanes: every lane runs once per batch, all at once, lane 0 on the
// caller; a failing lane's exception comes back after the others have finished; the pool is
// reused batch after batch.
#include <QtTest>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "gate.h"
#include "ml_service/lane_pool.h"

using namespace std::chrono_literals;
using stacklens::headless::ml_service::LanePool;
using stacklens::test::Gate;

class TestLanePool : public QObject {
  Q_OBJECT

 private slots:
  void everyLaneRunsOnceAndAllAtOnce() {
    LanePool pool(3);
    QCOMPARE(pool.lanes(), 3);
    std::atomic<int> arrived{0};
    Gate allArrived;
    std::vector<int> runs(3, 0);
    std::vector<int> sawAll(3, 0);
    std::thread::id laneZeroThread;
    pool.run([&](int lane) {
      ++runs[static_cast<std::size_t>(lane)];
      if (lane == 0) laneZeroThread = std::this_thread::get_id();
      if (arrived.fetch_add(1) + 1 == 3) allArrived.open();
      sawAll[static_cast<std::size_t>(lane)] = allArrived.waitOpen(5s);  // one at a time would time out
    });
    QCOMPARE(runs, std::vector<int>({1, 1, 1}));
    QCOMPARE(sawAll, std::vector<int>({1, 1, 1}));
    QVERIFY(laneZeroThread == std::this_thread::get_id());
  }

  void theLowestFailingLanesErrorComesBackAfterAllFinished() {
    LanePool pool(3);
    std::atomic<int> finished{0};
    try {
      pool.run([&](int lane) {
        if (lane == 2) {
          std::this_thread::sleep_for(50ms);
          finished.fetch_add(1);
          throw std::runtime_error("lane 2");
        }
        if (lane == 1) {
          finished.fetch_add(1);
          throw std::runtime_error("lane 1");
        }
        finished.fetch_add(1);
      });
      QFAIL("no exception");
    } catch (const std::runtime_error& e) {
      QCOMPARE(std::string(e.what()), std::string("lane 1"));
    }
    QCOMPARE(finished.load(), 3);
    // and the pool still works afterwards
    std::atomic<int> runs{0};
    pool.run([&](int) { runs.fetch_add(1); });
    QCOMPARE(runs.load(), 3);
  }

  void runsBatchAfterBatch() {
    LanePool pool(2);
    std::vector<std::atomic<int>> perLane(2);
    for (int batch = 0; batch < 1000; ++batch) pool.run([&](int lane) { perLane[static_cast<std::size_t>(lane)]++; });
    QCOMPARE(perLane[0].load(), 1000);
    QCOMPARE(perLane[1].load(), 1000);
  }

  void oneLaneRunsOnTheCaller() {
    LanePool pool(1);
    QCOMPARE(pool.lanes(), 1);
    std::thread::id ranOn;
    pool.run([&](int lane) {
      QCOMPARE(lane, 0);
      ranOn = std::this_thread::get_id();
    });
    QVERIFY(ranOn == std::this_thread::get_id());
  }

  void zeroLanesMeansOnePerCore() {
    const LanePool pool(0);
    QCOMPARE(pool.lanes(), static_cast<int>(std::max(1U, std::thread::hardware_concurrency())));
  }
};

QTEST_GUILESS_MAIN(TestLanePool)
#include "test_lane_pool.moc"

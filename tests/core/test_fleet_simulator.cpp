#include <cmath>
#include <map>

#include <QtTest>

#include "stacklens/core/sim/fleet_simulator.h"

using namespace stacklens::core;
using namespace stacklens::core::sim;

namespace {

FleetConfig smallFleet(double incidentRate = 2.0) {
  FleetConfig config;
  config.services = 5;
  config.hours = 28 * 24;
  config.seed = 7;
  config.incidentsPerServiceWeek = incidentRate;
  return config;
}

}  // namespace

class TestFleetSimulator : public QObject {
  Q_OBJECT
 private slots:
  void deterministicForASeed() {
    const auto a = FleetSimulator(smallFleet()).all();
    const auto b = FleetSimulator(smallFleet()).all();
    QCOMPARE(a.size(), std::size_t(5 * 28 * 24));
    for (std::size_t i = 0; i < a.size(); ++i) QCOMPARE(a[i].metrics.features(), b[i].metrics.features());
    FleetConfig other = smallFleet();
    other.seed = 8;
    QVERIFY(FleetSimulator(other).all()[0].metrics.features() != a[0].metrics.features());
  }

  void anyHourAloneEqualsTheFullRun() {
    const FleetSimulator fleet(smallFleet());
    const auto all = fleet.all();
    for (int h : {0, 17, 300, 28 * 24 - 1}) {
      const auto hour = fleet.hour(h);
      for (std::size_t s = 0; s < hour.size(); ++s) {
        QCOMPARE(hour[s].metrics.features(), all[h * 5 + s].metrics.features());
        QCOMPARE(hour[s].metrics.timestamp, fleet.config().start + h * 3600LL);
      }
    }
  }

  void incidentsAreLabelledDistinctAndAfterTheQuietWeek() {
    const FleetSimulator fleet(smallFleet());
    QVERIFY(fleet.incidents().size() >= 10);  // 2/week × 3 weeks × 5 services ≈ 30
    std::map<std::string, EpochSeconds> lastEnd;
    for (const Incident& incident : fleet.incidents()) {
      QVERIFY(incident.start >= fleet.config().start + 7 * 24 * 3600LL);
      QVERIFY(incident.end >= incident.start);
      if (lastEnd.contains(incident.service)) QVERIFY(incident.start > lastEnd[incident.service]);
      lastEnd[incident.service] = incident.end;
    }
    std::size_t labelled = 0, inWindows = 0;
    for (const auto& s : fleet.all()) {
      bool inside = false;
      for (const Incident& incident : fleet.incidents())
        inside |= incident.service == s.metrics.service && s.metrics.timestamp >= incident.start &&
                  s.metrics.timestamp <= incident.end;
      QCOMPARE(s.anomalous, inside);
      labelled += s.anomalous;
    }
    for (const Incident& incident : fleet.incidents()) inWindows += (incident.end - incident.start) / 3600 + 1;
    QCOMPARE(labelled, inWindows);
  }

  void incidentsChangeOnlyTheirMetrics() {
    // Rate 0 draws the same profiles and noise: a counterfactual fleet without incidents.
    const FleetSimulator withIncidents(smallFleet());
    const FleetSimulator without(smallFleet(0.0));
    QVERIFY(without.incidents().empty());
    const auto a = withIncidents.all();
    const auto b = without.all();
    for (const Incident& incident : withIncidents.incidents()) {
      const int service =
          int(std::find(withIncidents.serviceNames().begin(), withIncidents.serviceNames().end(), incident.service) -
              withIncidents.serviceNames().begin());
      const int hour = int((incident.start - withIncidents.config().start) / 3600);
      const ServiceMetrics& hit = a[hour * 5 + service].metrics;
      const ServiceMetrics& base = b[hour * 5 + service].metrics;
      switch (incident.kind) {
        case IncidentKind::kErrorSpike:
          QVERIFY(hit.errorRate >= std::min(100.0, base.errorRate * 4.9));
          QCOMPARE(hit.latencyMeanMs, base.latencyMeanMs);
          break;
        case IncidentKind::kLatencyShift:
          QVERIFY(qFuzzyCompare(hit.latencyMeanMs, base.latencyMeanMs * incident.magnitude));
          QCOMPARE(hit.totalRequests, base.totalRequests);
          break;
        case IncidentKind::kTrafficDrop:
          QVERIFY(hit.totalRequests <= std::round(base.totalRequests * 0.5) + 1);
          break;
        case IncidentKind::kSlowLeak:
          QVERIFY(hit.latencyMeanMs > base.latencyMeanMs);
          break;
      }
    }
  }

  void seasonalityWeekendsAndInvariants() {
    FleetConfig config = smallFleet(0.0);
    config.services = 1;
    const auto samples = FleetSimulator(config).all();
    std::array<double, 24> byHour{};
    double weekday = 0, weekend = 0;
    int weekdayCount = 0, weekendCount = 0;
    for (const auto& s : samples) {
      const ServiceMetrics& m = s.metrics;
      byHour[(m.timestamp % 86400) / 3600] += m.totalRequests;
      const int dow = int(((m.timestamp / 86400) + 3) % 7);
      (dow >= 5 ? weekend : weekday) += m.totalRequests;
      (dow >= 5 ? weekendCount : weekdayCount)++;
      QVERIFY(m.uniqueIps <= m.uniqueUsers && m.uniqueUsers <= m.totalRequests);
      QVERIFY(m.latencyMeanMs <= m.latencyP95Ms && m.latencyP95Ms <= m.latencyP99Ms);
      QVERIFY(m.errorRate >= 0 && m.errorRate <= 100 && m.riskScore >= 0 && m.riskScore <= 1);
    }
    const auto [lo, hi] = std::minmax_element(byHour.begin(), byHour.end());
    QVERIFY(*hi > 1.4 * *lo);  // daily amplitude is at least 0.25
    QVERIFY(weekend / weekendCount < weekday / weekdayCount);
  }

  void rejectsBadConfiguration() {
    FleetConfig config;
    config.services = 0;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, FleetSimulator{config});
    config = FleetConfig{};
    config.incidentsPerServiceWeek = -1;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, FleetSimulator{config});
  }
};

QTEST_GUILESS_MAIN(TestFleetSimulator)
#include "test_fleet_simulator.moc"

// The services' metrics registry, HTTP endpoint and JSON logs.
#include <thread>

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QtTest>

#include "observability/health_server.h"
#include "observability/logging.h"
#include "observability/metrics_registry.h"
#include "run_stacklens.h"

using namespace stacklens::headless;

namespace {

// A minimal HTTP/1.0 GET over a real socket; returns the status line and body.
std::pair<QString, QString> httpGet(int port, const QString& path) {
  QTcpSocket socket;
  socket.connectToHost("127.0.0.1", quint16(port));
  if (!socket.waitForConnected(5000)) return {"no connection", {}};
  socket.write(QString("GET %1 HTTP/1.0\r\nHost: localhost\r\n\r\n").arg(path).toLatin1());
  socket.waitForBytesWritten(5000);
  QByteArray response;
  while (socket.waitForReadyRead(5000)) response += socket.readAll();
  const int split = response.indexOf("\r\n\r\n");
  return {QString(response.left(response.indexOf("\r\n"))), QString(response.mid(split + 4))};
}

}  // namespace

class TestObservability : public QObject {
  Q_OBJECT
 private slots:
  void rendersPrometheusTextFormat() {
    MetricsRegistry registry;
    registry.counter("stacklens_messages_in_total", "Messages consumed").increment(3);
    registry.counter("stacklens_anomalies_total", "Anomalies by severity", {{"severity", "critical"}}).increment();
    registry.counter("stacklens_anomalies_total", "Anomalies by severity", {{"severity", "low"}}).increment(2);
    registry.gauge("stacklens_consumer_lag", "Lag", {{"topic", "a\"b"}}).set(7);
    Histogram& latency = registry.histogram("stacklens_latency_seconds", "Latency", {0.001, 0.01, 0.1});
    for (double v : {0.0005, 0.001, 0.005, 0.05, 2.0}) latency.observe(v);
    const QString text = QString::fromStdString(registry.render());
    QVERIFY(text.contains("# TYPE stacklens_messages_in_total counter\nstacklens_messages_in_total 3\n"));
    QVERIFY(text.contains("stacklens_anomalies_total{severity=\"critical\"} 1\n"));
    QVERIFY(text.contains("stacklens_anomalies_total{severity=\"low\"} 2\n"));
    QVERIFY(text.contains("stacklens_consumer_lag{topic=\"a\\\"b\"} 7\n"));
    // Buckets are cumulative and `le` is inclusive.
    QVERIFY(text.contains("stacklens_latency_seconds_bucket{le=\"0.001\"} 2\n"));
    QVERIFY(text.contains("stacklens_latency_seconds_bucket{le=\"0.01\"} 3\n"));
    QVERIFY(text.contains("stacklens_latency_seconds_bucket{le=\"0.1\"} 4\n"));
    QVERIFY(text.contains("stacklens_latency_seconds_bucket{le=\"+Inf\"} 5\n"));
    QVERIFY(text.contains("stacklens_latency_seconds_count 5\n"));
    QVERIFY_THROWS_EXCEPTION(std::logic_error, registry.gauge("stacklens_messages_in_total", "x"));
  }

  void countersAreThreadSafe() {
    MetricsRegistry registry;
    Counter& counter = registry.counter("c", "c");
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 10000; ++i) counter.increment();
      });
    for (auto& thread : threads) thread.join();
    QCOMPARE(counter.value(), 40000.0);
  }

  void servesHealthReadinessAndMetrics() {
    MetricsRegistry registry;
    registry.counter("stacklens_dlq_total", "Dead letters").increment(4);
    std::atomic<bool> ready{false};
    HealthServer server(registry, [&] {
      return Readiness{ready, ready ? R"({"kafka":"ok","postgres":"ok"})" : R"({"postgres":"connection refused"})"};
    });
    server.start("127.0.0.1", 0);
    QVERIFY(server.port() > 0);
    QVERIFY(httpGet(server.port(), "/healthz").first.contains("200"));
    auto [status, body] = httpGet(server.port(), "/readyz");
    QVERIFY2(status.contains("503"), qPrintable(status));
    QVERIFY(body.contains("connection refused"));
    ready = true;
    QVERIFY(httpGet(server.port(), "/readyz").first.contains("200"));
    QVERIFY(httpGet(server.port(), "/metrics").second.contains("stacklens_dlq_total 4"));
    QVERIFY(httpGet(server.port(), "/nope").first.contains("404"));
    // A second server on the same port fails with a message naming the address.
    HealthServer clash(registry, [] { return Readiness{}; });
    try {
      clash.start("127.0.0.1", server.port());
      QFAIL("expected a bind error");
    } catch (const std::runtime_error& e) {
      QVERIFY(QString(e.what()).contains(QString("127.0.0.1:%1").arg(server.port())));
    }
    server.stop();
  }

  void healthcheckCommandAsksTheEndpoint() {
    MetricsRegistry registry;
    std::atomic<bool> ready{false};
    HealthServer server(registry, [&] { return Readiness{ready, R"({"postgres":"connection refused"})"}; });
    server.start("127.0.0.1", 0);
    const QString port = QString::number(server.port());
    QCOMPARE(stacklens::test::runStacklens({"healthcheck", "--port", port}).exitCode, 0);
    const auto notReady = stacklens::test::runStacklens({"healthcheck", "--port", port, "--ready"});
    QCOMPARE(notReady.exitCode, 1);
    QVERIFY2(notReady.err.contains("/readyz answered 503") && notReady.err.contains("connection refused"),
             qPrintable(notReady.err));
    ready = true;
    QCOMPARE(stacklens::test::runStacklens({"healthcheck", "--port", port, "--ready"}).exitCode, 0);
    server.stop();
    QCOMPARE(stacklens::test::runStacklens({"healthcheck", "--port", port}).exitCode, 1);
  }

  void jsonEscapesEverything() {
    const std::string escaped = jsonEscape("say \"hi\"\n\\ \x01 é");
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString("{\"m\":\"" + escaped + "\"}"));
    QVERIFY(!doc.isNull());
    QCOMPARE(doc.object()["m"].toString(), QString::fromUtf8("say \"hi\"\n\\ \x01 é"));
  }
};

QTEST_GUILESS_MAIN(TestObservability)
#include "test_observability.moc"

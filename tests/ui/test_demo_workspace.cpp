// The bundled demo workspace: the committed data (resources/demo) is what its script, which runs
// `stacklens simulate`, makes now; it is the fleet of the core simulator with its incidents as
// labels; and `stacklens-workbench --demo` opens it from the user's data folder.
#include <QDirIterator>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "stacklens/ui/workspace/demo_workspace.h"
#include "stacklens/ui/workspace/workspace.h"

using namespace stacklens::ui;

namespace {

std::string readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll().toStdString() : std::string();
}

}  // namespace

class TestDemoWorkspace : public QObject {
  Q_OBJECT
 private slots:
  void theCommittedDemoIsWhatItsScriptMakesNow() {
    QTemporaryDir dir;
    QProcess script;
    script.start(STACKLENS_SOURCE_DIR "/resources/demo/make-demo",
                 {"--stacklens", STACKLENS_BIN_DIR "/stacklens", "--output", dir.path()});
    QVERIFY(script.waitForFinished(120000));
    QVERIFY2(script.exitCode() == 0, script.readAllStandardError().constData());
    // The committed files, byte for byte (gzip -n writes no name or time) ...
    for (const char* name : {"metrics.csv.gz", "incidents.csv"}) {
      const std::string committed = readAll(STACKLENS_SOURCE_DIR "/resources/demo/" + QString(name));
      QVERIFY2(!committed.empty(), name);
      QVERIFY2(readAll(dir.filePath(name)) == committed, name);
    }
    // ... and what the binary bundles.
    QProcess gunzip;
    gunzip.start("gzip", {"-dc", dir.filePath("metrics.csv.gz")});
    QVERIFY(gunzip.waitForFinished(60000));
    QVERIFY(gunzip.readAllStandardOutput().toStdString() == bundledDemoFile("metrics.csv"));
    QVERIFY(readAll(dir.filePath("incidents.csv")) == bundledDemoFile("incidents.csv"));
  }

  void theBundledFleetIsTheSimulatorsWithItsIncidentsAsLabels() {
    const auto bundled = bundledDemoServices();
    const auto simulated = simulatedServices(demoFleetConfig());
    QCOMPARE(bundled.size(), std::size_t(12));
    QCOMPARE(bundled.size(), simulated.size());
    std::size_t labels = 0;
    for (const ServiceData& s : simulated) {
      const auto it =
          std::find_if(bundled.begin(), bundled.end(), [&](const ServiceData& d) { return d.name == s.name; });
      QVERIFY(it != bundled.end());
      QVERIFY(it->rowCount() >= 30 * 24);
      QCOMPARE(it->timestamps, s.timestamps);
      QCOMPARE(it->labels.size(), s.labels.size());
      for (std::size_t k = 0; k < s.labels.size(); ++k) {
        QCOMPARE(it->labels[k].start, s.labels[k].start);
        QCOMPARE(it->labels[k].end, s.labels[k].end);
      }
      for (std::size_t m = 0; m < s.metrics.size(); ++m)
        for (std::size_t r = 0; r < s.rowCount(); ++r)
          QVERIFY(std::abs(it->values[m][r] - s.values[m][r]) <= 1e-9 * std::max(1.0, std::abs(s.values[m][r])));
      labels += s.labels.size();
    }
    QVERIFY(labels >= 12);
  }

  void theWorkbenchOpensTheBundledDemo() {
    QTemporaryDir home;
    QProcess workbench;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("HOME", home.path());
    env.insert("XDG_DATA_HOME", home.filePath("data"));
    env.insert("XDG_CONFIG_HOME", home.filePath("config"));
    env.insert("QT_QPA_PLATFORM", "offscreen");
    workbench.setProcessEnvironment(env);
    const QString shot = home.filePath("demo.png");
    workbench.start(STACKLENS_BIN_DIR "/stacklens-workbench",
                    {"--demo", "--no-session", "--screenshot", shot, "--screenshot-delay", "200"});
    QVERIFY(workbench.waitForFinished(120000));
    QVERIFY2(workbench.exitCode() == 0, workbench.readAllStandardError().constData());
    QVERIFY(QFile::exists(shot));
    // The demo was copied into the user's data folder, from the bundled data.
    QDirIterator found(home.filePath("data"), {"demo.stacklens"}, QDir::Files, QDirIterator::Subdirectories);
    QVERIFY(found.hasNext());
    auto ws = Workspace::open(found.next());
    const auto services = ws->services();
    QCOMPARE(services.size(), std::size_t(12));
    int labelled = 0;
    for (const auto& s : services) {
      QVERIFY(s.samples >= 30 * 24);
      labelled += s.labelWindows;
    }
    int expected = 0;
    for (const ServiceData& d : bundledDemoServices()) expected += static_cast<int>(d.labels.size());
    QCOMPARE(labelled, expected);
    QVERIFY(ws->configuration("demo").value_or("").find("data_md5=") != std::string::npos);
  }
};

QTEST_GUILESS_MAIN(TestDemoWorkspace)
#include "test_demo_workspace.moc"

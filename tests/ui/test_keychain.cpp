// Connection passwords in the system keychain, for real: a private D-Bus session bus with
// gnome-keyring's Secret Service (Debian's gnome-keyring, headless, unlocked with a throwaway
// password), through qtkeychain as the workbench uses it. And the fallback when the session has
// no Secret Service: nothing is found, storing says why, and the environment variable still works.
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include "stacklens/ui/connected/connection_profile.h"
#include "test_servers.h"

using namespace stacklens::ui;
using Kind = PasswordSource::Kind;

namespace {

// dbus-daemon --session on a socket of its own, and gnome-keyring-daemon's secrets component in
// it (started unlocked; the bus activates it on first use as a desktop session would).
class SecretServiceSession {
 public:
  SecretServiceSession() {
    if (QStandardPaths::findExecutable("dbus-daemon").isEmpty() ||
        QStandardPaths::findExecutable("gnome-keyring-daemon").isEmpty()) {
      error_ = "dbus-daemon or gnome-keyring-daemon is not installed (Debian packages dbus-daemon, gnome-keyring)";
      return;
    }
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("HOME", home_.path());  // the keyring files live under $HOME/.local/share/keyrings
    env.insert("XDG_DATA_HOME", home_.filePath("data"));
    env.insert("XDG_RUNTIME_DIR", home_.path());
    env.remove("DISPLAY");
    bus_.setProcessEnvironment(env);
    bus_.start("dbus-daemon", {"--session", "--nofork", "--print-address=1"});
    if (!bus_.waitForStarted(5000) || !bus_.waitForReadyRead(10000)) {
      error_ = "dbus-daemon did not start: " + QString::fromUtf8(bus_.readAllStandardError());
      return;
    }
    address_ = QString::fromUtf8(bus_.readLine()).trimmed();
    env.insert("DBUS_SESSION_BUS_ADDRESS", address_);
    QProcess keyring;
    keyring.setProcessEnvironment(env);
    keyring.start("gnome-keyring-daemon", {"--unlock", "--components=secrets"});
    keyring.write("throwaway-unlock-password");
    keyring.closeWriteChannel();
    if (!keyring.waitForFinished(20000) || keyring.exitCode() != 0) {
      error_ = "gnome-keyring-daemon --unlock failed: " + QString::fromUtf8(keyring.readAllStandardError());
      return;
    }
  }
  ~SecretServiceSession() {
    // The keyring daemon leaves when its bus goes away.
    bus_.terminate();
    bus_.waitForFinished(5000);
  }
  bool ok() const { return error_.isEmpty(); }
  QString error() const { return error_; }
  QString address() const { return address_; }

 private:
  QTemporaryDir home_;
  QProcess bus_;
  QString address_;
  QString error_;
};

}  // namespace

class TestKeychain : public QObject {
  Q_OBJECT
 private slots:
  // Runs first: the session bus address is read once per process.
  void withoutSecretServiceTheEnvironmentStillWorks() {
    QTemporaryDir dir;
    qputenv("DBUS_SESSION_BUS_ADDRESS", ("unix:path=" + dir.filePath("no-bus")).toUtf8());
    QCOMPARE(PasswordSource::fromKeychain("prod", Kind::kPostgres), std::nullopt);
    QString error;
    QVERIFY(!PasswordSource::storeInKeychain("prod", Kind::kPostgres, "s3cret", &error));
    QVERIFY2(!error.isEmpty(), "a refused store says why");
    qputenv("STACKLENS_TEST_KEYCHAIN_PW", "from-env");
    QCOMPARE(PasswordSource::lookup("prod", Kind::kPostgres, "STACKLENS_TEST_KEYCHAIN_PW", true),
             std::optional<QString>("from-env"));
    QCOMPARE(PasswordSource::lookup("prod", Kind::kPostgres, QString(), true), std::nullopt);  // the dialog asks
    qunsetenv("STACKLENS_TEST_KEYCHAIN_PW");
  }

  void passwordsRoundTripThroughTheSecretService() {
    if (!PasswordSource::keychainAvailable()) {
      QString error;
      QVERIFY(!PasswordSource::storeInKeychain("prod", Kind::kPostgres, "s3cret", &error));
      QVERIFY2(error.contains("no keychain support"), qPrintable(error));
      if (stacklens::test::underCi()) QFAIL("built without qtkeychain (qtkeychain-qt6-dev)");
      QSKIP("built without qtkeychain");
    }
    SecretServiceSession session;
    if (!session.ok()) {
      if (stacklens::test::underCi()) QFAIL(qPrintable(session.error()));
      QSKIP(qPrintable(session.error()));
    }
    qputenv("DBUS_SESSION_BUS_ADDRESS", session.address().toUtf8());
    QString error;
    QVERIFY2(PasswordSource::storeInKeychain("prod", Kind::kPostgres, "pg-s3cret", &error), qPrintable(error));
    QVERIFY2(PasswordSource::storeInKeychain("prod", Kind::kKafka, "kafka-s3cret", &error), qPrintable(error));
    QCOMPARE(PasswordSource::fromKeychain("prod", Kind::kPostgres), std::optional<QString>("pg-s3cret"));
    QCOMPARE(PasswordSource::fromKeychain("prod", Kind::kKafka), std::optional<QString>("kafka-s3cret"));
    QCOMPARE(PasswordSource::fromKeychain("staging", Kind::kPostgres), std::nullopt);
    // Replacing keeps one entry with the new password.
    QVERIFY(PasswordSource::storeInKeychain("prod", Kind::kPostgres, "rotated", &error));
    QCOMPARE(PasswordSource::fromKeychain("prod", Kind::kPostgres), std::optional<QString>("rotated"));
    // The order a connection asks in: the environment variable, then the keychain when the
    // profile uses it.
    QCOMPARE(PasswordSource::lookup("prod", Kind::kPostgres, QString(), true), std::optional<QString>("rotated"));
    QCOMPARE(PasswordSource::lookup("prod", Kind::kPostgres, QString(), false), std::nullopt);
    qputenv("STACKLENS_TEST_KEYCHAIN_PW", "from-env");
    QCOMPARE(PasswordSource::lookup("prod", Kind::kPostgres, "STACKLENS_TEST_KEYCHAIN_PW", true),
             std::optional<QString>("from-env"));
    qunsetenv("STACKLENS_TEST_KEYCHAIN_PW");
  }
};

QTEST_GUILESS_MAIN(TestKeychain)
#include "test_keychain.moc"

#pragma once
// A PRIVATE throwaway PostgreSQL server for one test: initdb into a temporary directory (as the
// `postgres` user when running as root), a random free port on 127.0.0.1, the unix socket in the
// same directory, fsync=off. Unlike the shared server of tests/harness/with-servers, a test may
// stop, crash and restart it ("the server went away mid-stream"). It keeps
// synchronous_commit on, so an acknowledged commit survives an immediate (crash) stop.
// Binaries: $STACKLENS_TEST_PG_BIN, else the newest /usr/lib/postgresql/*/bin.

#include <pwd.h>
#include <string>
#include <unistd.h>

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>

#include "free_port.h"

namespace stacklens::test {

struct ThrowawayPostgresOptions {
  /// postgresql.conf lines added to the defaults, e.g. "ssl = on".
  QStringList config;
  /// When set, TCP connections must authenticate with this password (scram-sha-256) as user
  /// `stacklens`; unix-socket connections stay trusted.
  QString password;
  /// Serve TLS with a fresh self-signed certificate for 127.0.0.1 (certificateFile() is then
  /// the root certificate a client verifies against). Needs the openssl command.
  bool tls = false;
};

class ThrowawayPostgres {
 public:
  using Options = ThrowawayPostgresOptions;

  enum class StopMode { kFast, kImmediate };

  explicit ThrowawayPostgres(Options options = {}) : options_(std::move(options)) { ready_ = initialize(); }

  ~ThrowawayPostgres() {
    if (running_) runAsOwner(binDir() + "/pg_ctl", {"-D", dataDir(), "-m", "immediate", "-w", "stop"});
  }

  ThrowawayPostgres(const ThrowawayPostgres&) = delete;
  ThrowawayPostgres& operator=(const ThrowawayPostgres&) = delete;

  /// True when initdb, the first start and CREATE DATABASE stacklens worked; else see error().
  bool isReady() const { return ready_; }
  const QString& error() const { return error_; }

  /// Starts (again) on the same port. Returns false and sets error() on failure.
  bool start() {
    const QString serverOptions = QStringLiteral(
                                      "-p %1 -k %2 -c listen_addresses=127.0.0.1 -c fsync=off "
                                      "-c full_page_writes=off -c max_connections=100")
                                      .arg(port_)
                                      .arg(socketDir());
    running_ = runAsOwner(binDir() + "/pg_ctl", {"-D", dataDir(), "-l", dir_.filePath("postgres.log"), "-w", "-t", "60",
                                                 "-o", serverOptions, "start"});
    return running_;
  }

  /// kImmediate is a crash: no checkpoint, clients cut off; the next start runs crash recovery.
  bool stop(StopMode mode = StopMode::kFast) {
    const bool stopped = runAsOwner(
        binDir() + "/pg_ctl", {"-D", dataDir(), "-m", mode == StopMode::kFast ? "fast" : "immediate", "-w", "stop"});
    if (stopped) running_ = false;
    return stopped;
  }

  bool restart(StopMode mode = StopMode::kFast) { return stop(mode) && start(); }
  bool isRunning() const { return running_; }

  int port() const { return port_; }
  QString socketDir() const { return dir_.path(); }
  QString dataDir() const { return dir_.filePath("pgdata"); }
  QString logFile() const { return dir_.filePath("postgres.log"); }
  QString certificateFile() const { return dir_.filePath("server.crt"); }

  /// Connection string over the unix socket (trusted) to `database`.
  std::string dsn(const std::string& database = "stacklens") const {
    return "host=" + socketDir().toStdString() + " port=" + std::to_string(port_) +
           " user=stacklens dbname=" + database;
  }
  /// Connection string over TCP 127.0.0.1 (needs the password when Options::password is set).
  std::string tcpDsn(const std::string& database = "stacklens") const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=stacklens dbname=" + database;
  }

  /// Runs a program of the PostgreSQL bin directory as the data directory's owner.
  bool runAsOwner(const QString& program, const QStringList& arguments) {
    if (!asRoot()) return run(program, arguments);
    return run("runuser", QStringList{"-u", "postgres", "--", program} + arguments);
  }

  static QString binDir() {
    const QString configured = qEnvironmentVariable("STACKLENS_TEST_PG_BIN");
    if (!configured.isEmpty()) return configured;
    const QStringList versions =
        QDir("/usr/lib/postgresql").entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name | QDir::Reversed);
    for (const QString& version : versions)
      if (QFile::exists("/usr/lib/postgresql/" + version + "/bin/initdb"))
        return "/usr/lib/postgresql/" + version + "/bin";
    return "/usr/lib/postgresql/15/bin";
  }

 private:
  bool initialize() {
    if (!dir_.isValid()) return fail("cannot create a temporary directory");
    if (asRoot() && !chownToPostgres(dir_.path())) return false;
    QFile::setPermissions(dir_.path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ReadGroup |
                                           QFile::ExeGroup | QFile::ReadOther | QFile::ExeOther);
    QStringList initdb = {"-D", dataDir(), "-U", "stacklens", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"};
    if (options_.password.isEmpty()) {
      initdb << "-A"
             << "trust";
    } else {
      const QString passwordFile = dir_.filePath("pwfile");
      QFile file(passwordFile);
      if (!file.open(QIODevice::WriteOnly)) return fail("cannot write " + passwordFile);
      file.write(options_.password.toUtf8() + '\n');
      file.close();
      if (asRoot() && !chownToPostgres(passwordFile)) return false;
      initdb << "--auth-local=trust"
             << "--auth-host=scram-sha-256"
             << "--pwfile=" + passwordFile;
    }
    if (!runAsOwner(binDir() + "/initdb", initdb)) return false;
    QStringList config = options_.config;
    if (options_.tls) {
      if (!makeCertificate()) return false;
      config << "ssl = on"
             << "ssl_cert_file = '" + certificateFile() + "'"
             << "ssl_key_file = '" + dir_.filePath("server.key") + "'";
    }
    QFile conf(dataDir() + "/postgresql.conf");
    if (!conf.open(QIODevice::Append)) return fail("cannot append to postgresql.conf");
    conf.write("\n" + config.join('\n').toUtf8() + "\n");
    conf.close();
    port_ = freeTcpPort();
    if (!start()) return false;
    return run(binDir() + "/createdb",
               {"-h", socketDir(), "-p", QString::number(port_), "-U", "stacklens", "stacklens"});
  }

  // A self-signed P-256 certificate for 127.0.0.1; the key readable by the server only.
  bool makeCertificate() {
    const QString key = dir_.filePath("server.key");
    if (!run("openssl", {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                         "-keyout", key, "-out", certificateFile(), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                         "subjectAltName=IP:127.0.0.1"}))
      return false;
    if (asRoot() && !(chownToPostgres(key) && chownToPostgres(certificateFile()))) return false;
    QFile::setPermissions(key, QFile::ReadOwner | QFile::WriteOwner);
    return true;
  }

  static bool asRoot() { return ::geteuid() == 0; }

  bool fail(const QString& message) {
    error_ = message;
    return false;
  }

  bool chownToPostgres(const QString& path) {
    const passwd* user = ::getpwnam("postgres");
    if (user == nullptr) return fail("running as root, but there is no 'postgres' user to run initdb as");
    if (::chown(QFile::encodeName(path).constData(), user->pw_uid, user->pw_gid) != 0)
      return fail("cannot chown " + path + " to postgres");
    return true;
  }

  bool run(const QString& program, const QStringList& arguments) {
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.setWorkingDirectory(dir_.path());  // the postgres user may not enter the caller's directory
    process.start(program, arguments);
    if (!process.waitForFinished(120000) || process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
      QFile log(logFile());
      const QString serverLog = log.open(QIODevice::ReadOnly) ? QString::fromUtf8(log.readAll().right(2000)) : "";
      return fail(program + " " + arguments.join(' ') + " failed: " + QString::fromUtf8(process.readAll()) +
                  (serverLog.isEmpty() ? "" : "\nserver log:\n" + serverLog));
    }
    return true;
  }


  Options options_;
  QTemporaryDir dir_{QDir::tempPath() + "/stacklens-pg.XXXXXX"};
  QString error_;
  int port_ = 0;
  bool running_ = false;
  bool ready_ = false;
};

}  // namespace stacklens::test

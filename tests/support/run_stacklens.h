#pragma once
// Runs the built `stacklens` executable as a user would, for CLI tests.

#include <QProcess>
#include <QString>
#include <QStringList>

namespace stacklens::test {

struct CliRun {
  int exitCode = -1;  ///< -1 when it crashed or did not finish in time
  QString out;
  QString err;
};

inline CliRun runStacklens(const QStringList& arguments, int timeoutMs = 120000) {
  QProcess process;
  process.start(QStringLiteral(STACKLENS_BIN_DIR "/stacklens"), arguments);
  if (!process.waitForFinished(timeoutMs)) {
    process.kill();
    process.waitForFinished();
    return {-1, {}, QStringLiteral("did not finish within %1 ms").arg(timeoutMs)};
  }
  return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
          QString::fromUtf8(process.readAllStandardOutput()), QString::fromUtf8(process.readAllStandardError())};
}

}  // namespace stacklens::test

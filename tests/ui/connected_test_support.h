#pragma once
// The harness's PostgreSQL as a workbench connection profile (QPSQL over TCP; the harness trusts
// local TCP connections, so no password).

#include <string>

#include <QtGlobal>

#include "stacklens/ui/connected/connection_profile.h"

namespace stacklens::test {

inline ui::PgProfile harnessPgProfile(const std::string& database) {
  ui::PgProfile p;
  p.host = qEnvironmentVariable("STACKLENS_TEST_PG_HOST");
  p.port = qEnvironmentVariableIntValue("STACKLENS_TEST_PG_PORT");
  p.database = QString::fromStdString(database);
  p.user = QStringLiteral("stacklens");
  p.sslMode = QStringLiteral("disable");
  return p;
}

}  // namespace stacklens::test

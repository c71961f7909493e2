#pragma once
// Small helpers for tests that talk to PostgreSQL: rows as "a|b|c" strings (NULL as "NULL"), so a
// test states the rows it expects in one readable list; the message of an expected PgError.

#include <string>
#include <vector>

#include <QStringList>

#include "stacklens/connect/pg_connection.h"

namespace stacklens::test {

inline QStringList rowsOf(connect::PgConnection& db, const std::string& sql,
                          const std::vector<std::string>& params = {}) {
  const connect::PgResult result = db.query(sql, params);
  QStringList rows;
  for (int r = 0; r < result.rows(); ++r) {
    QStringList fields;
    for (int c = 0; c < result.columns(); ++c)
      fields << (result.isNull(r, c) ? QStringLiteral("NULL") : QString::fromStdString(std::string(result.text(r, c))));
    rows << fields.join('|');
  }
  return rows;
}

inline long long scalarOf(connect::PgConnection& db, const std::string& sql,
                          const std::vector<std::string>& params = {}) {
  return std::stoll(db.queryScalar(sql, params).value_or("0"));
}

/// The message of the PgError that `action` throws, or an empty string when it throws none.
inline QString errorOf(const std::function<void()>& action) {
  try {
    action();
  } catch (const connect::PgError& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

}  // namespace stacklens::test

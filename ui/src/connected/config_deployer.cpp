#include "stacklens/ui/connected/config_deployer.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QStringList>
#include <QVariant>
#include <algorithm>

#include "stacklens/ui/connected/pg_session.h"

namespace stacklens::ui {

namespace {

ConfigVersion versionFrom(const QSqlQuery& q, bool withText) {
  ConfigVersion v;
  v.version = q.value(0).toInt();
  v.author = q.value(1).toString();
  v.createdAt = q.value(2).toDateTime();
  v.note = q.value(3).toString();
  v.diff = q.value(4).toString();
  v.rollbackOf = q.value(5).toInt();
  if (withText) v.toml = q.value(6).toString();
  return v;
}

const QString kColumns = QStringLiteral("version, author, created_at, note, diff, COALESCE(rollback_of, 0), config_toml");

}  // namespace

QString lineDiff(const QString& before, const QString& after) {
  const QStringList a = before.split('\n');
  const QStringList b = after.split('\n');
  const auto n = a.size(), m = b.size();
  // lcs[i][j]: longest common subsequence of a[i..] and b[j..].
  std::vector<std::vector<int>> lcs(n + 1, std::vector<int>(m + 1, 0));
  for (auto i = n - 1; i >= 0; --i)
    for (auto j = m - 1; j >= 0; --j)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  QStringList out;
  qsizetype i = 0, j = 0;
  bool inHunk = false;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      ++i, ++j;
      inHunk = false;
      continue;
    }
    if (!inHunk) out << QStringLiteral("@@ line %1 @@").arg(j + 1);
    inHunk = true;
    if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]))
      out << "+" + b[j++];
    else
      out << "-" + a[i++];
  }
  return out.join('\n');
}

ConfigDeployer::ConfigDeployer(QSqlDatabase db, QString author) : db_(std::move(db)), author_(std::move(author)) {}

std::optional<ConfigVersion> ConfigDeployer::fail(const QString& message) {
  error_ = message;
  db_.rollback();
  return std::nullopt;
}

std::optional<ConfigVersion> ConfigDeployer::running() {
  QSqlQuery q(db_);
  if (!execBound(q, "SELECT " + kColumns + " FROM ml_config_versions ORDER BY version DESC LIMIT 1")) {
    error_ = q.lastError().text();
    return std::nullopt;
  }
  if (!q.next()) return std::nullopt;
  return versionFrom(q, true);
}

std::vector<ConfigVersion> ConfigDeployer::history(bool withText) {
  std::vector<ConfigVersion> versions;
  QSqlQuery q(db_);
  if (!execBound(q, "SELECT " + kColumns + " FROM ml_config_versions ORDER BY version DESC")) {
    error_ = q.lastError().text();
    return versions;
  }
  while (q.next()) versions.push_back(versionFrom(q, withText));
  return versions;
}

std::optional<ConfigVersion> ConfigDeployer::insert(const QString& toml, const QString& note, int rollbackOf) {
  error_.clear();
  if (!db_.transaction()) return fail(db_.lastError().text());
  QSqlQuery q(db_);
  // One publisher at a time, so the next version and the diff are against the same running one.
  if (!execBound(q, QStringLiteral("LOCK TABLE ml_config_versions IN SHARE ROW EXCLUSIVE MODE")))
    return fail(q.lastError().text());
  if (!execBound(q, QStringLiteral("SELECT version, config_toml FROM ml_config_versions ORDER BY version DESC LIMIT 1")))
    return fail(q.lastError().text());
  int running = 0;
  QString runningText;
  if (q.next()) {
    running = q.value(0).toInt();
    runningText = q.value(1).toString();
  }
  if (running > 0 && runningText == toml) return fail(QStringLiteral("nothing to deploy: version %1 runs this configuration").arg(running));
  ConfigVersion v;
  v.version = running + 1;
  v.toml = toml;
  v.author = author_;
  v.note = note;
  v.diff = lineDiff(runningText, toml);
  v.rollbackOf = rollbackOf;
  if (!execBound(q,
            QStringLiteral("INSERT INTO ml_config_versions (version, config_toml, author, note, diff, rollback_of) "
                           "VALUES (?, ?, ?, ?, ?, NULLIF(?, 0)) RETURNING created_at"),
            {v.version, toml, author_, note, v.diff, rollbackOf}) ||
      !q.next())
    return fail(q.lastError().text());
  v.createdAt = q.value(0).toDateTime();
  q.finish();
  if (!db_.commit()) return fail(db_.lastError().text());
  return v;
}

std::optional<ConfigVersion> ConfigDeployer::publish(const QString& toml, const QString& note) {
  return insert(toml, note, 0);
}

std::optional<ConfigVersion> ConfigDeployer::rollback(int version, const QString& note) {
  QSqlQuery q(db_);
  if (!execBound(q, QStringLiteral("SELECT config_toml FROM ml_config_versions WHERE version = ?"), {version}))
    return fail(q.lastError().text());
  if (!q.next()) return fail(QStringLiteral("no configuration version %1").arg(version));
  const QString toml = q.value(0).toString();
  q.finish();
  return insert(toml, note.isEmpty() ? QStringLiteral("rollback to version %1").arg(version) : note, version);
}

}  // namespace stacklens::ui

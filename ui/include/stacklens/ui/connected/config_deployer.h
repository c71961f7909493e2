#pragma once
// Deploying a tuned configuration to production: each publish is a new row of ml_config_versions
// (version strictly increasing, author, time, note, and the line diff from the running version);
// the highest version runs. Rolling back publishes an earlier version's text again. Needs schema
// version 7 (sql/migrations/0007_ml_config_versions.sql).

#include <QDateTime>
#include <QSqlDatabase>
#include <QString>
#include <optional>
#include <vector>

namespace stacklens::ui {

struct ConfigVersion {
  int version = 0;
  QString toml;
  QString author;
  QDateTime createdAt;
  QString note;
  QString diff;         ///< unified-style line diff from the version it replaced
  int rollbackOf = 0;   ///< the version it restores, 0 for a fresh publish
};

/// A line diff of two texts ("-" removed, "+" added lines; unchanged lines are left out, each
/// hunk headed by "@@ line N @@"). Empty when the texts are equal. O(n·m) in lines.
QString lineDiff(const QString& before, const QString& after);

class ConfigDeployer {
 public:
  ConfigDeployer(QSqlDatabase db, QString author);

  /// The running (highest) version; nullopt when none was deployed or on error (see error()).
  std::optional<ConfigVersion> running();
  /// Every version, newest first, without their TOML text when `withText` is false.
  std::vector<ConfigVersion> history(bool withText = false);
  /// Publishes `toml` as the next version; returns it, or nullopt with error(). Publishing the
  /// running text again is refused ("nothing to deploy").
  std::optional<ConfigVersion> publish(const QString& toml, const QString& note);
  /// Publishes version `version`'s text again as the next version.
  std::optional<ConfigVersion> rollback(int version, const QString& note = {});
  const QString& error() const { return error_; }

 private:
  std::optional<ConfigVersion> insert(const QString& toml, const QString& note, int rollbackOf);
  std::optional<ConfigVersion> fail(const QString& message);

  QSqlDatabase db_;
  QString author_;
  QString error_;
};

}  // namespace stacklens::ui

#pragma once
// The workbench connected to production: a Connection menu (Connect…, Disconnect) and the
// Production dock, added to the main window. It owns the open PostgreSQL session and keeps
// false positives marked in triage as labels of the local workspace.

#include <QObject>
#include <memory>

#include "stacklens/ui/connected/config_deployer.h"
#include "stacklens/ui/connected/connection_diagnosis.h"
#include "stacklens/ui/connected/connection_profile.h"

class QAction;
class QDockWidget;

namespace stacklens::ui {

class MainWindow;
class LivePanel;
class PgSession;
class ProductionPanel;
class ShadowPanel;

class ConnectedWorkbench : public QObject {
  Q_OBJECT
 public:
  explicit ConnectedWorkbench(MainWindow* window);
  ~ConnectedWorkbench() override;

  /// Connects to the profile's PostgreSQL; on success the Production dock shows its tables and,
  /// when the profile has Kafka, the Live dock tails production's topics. The diagnosis says why
  /// not otherwise (also for a schema that is not at this build's version).
  ConnectionDiagnosis connectTo(const ConnectionProfile& profile, const QString& pgPassword,
                                const QString& kafkaPassword = {});
  void disconnectFromProduction();
  bool isConnected() const { return session_ != nullptr; }
  const ConnectionProfile& profile() const { return profile_; }
  /// Who triage records as acting: $STACKLENS_USER, else the login name.
  static QString userName();

  /// Publishes the tuning panel's settings (the TOML File ▸ Export Configuration writes) as the
  /// next deployed version; nullopt with `error` when not connected or refused.
  std::optional<ConfigVersion> deployTuned(const QString& note, QString* error = nullptr);
  /// Publishes version `version` again as the next version.
  std::optional<ConfigVersion> rollBack(int version, QString* error = nullptr);

  ProductionPanel* productionPanel() const { return panel_; }
  LivePanel* livePanel() const { return live_; }
  ShadowPanel* shadowPanel() const { return shadow_; }
  QAction* connectAction() const { return connect_; }
  QAction* disconnectAction() const { return disconnect_; }
  QAction* deployAction() const { return deploy_; }

 signals:
  void connectionChanged(bool connected);

 private:
  void showConnectDialog();
  void showDeployDialog();

  MainWindow* window_;
  ProductionPanel* panel_;
  QDockWidget* dock_;
  LivePanel* live_;
  ShadowPanel* shadow_;
  QDockWidget* liveDock_;
  QAction* connect_;
  QAction* disconnect_;
  QAction* deploy_;
  ConnectionProfile profile_;
  std::unique_ptr<PgSession> session_;
};

}  // namespace stacklens::ui

#include "stacklens/ui/connected/connected_workbench.h"

#include <QAction>
#include <QDialog>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>
#include <QDockWidget>
#include <QMenu>
#include <QMenuBar>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>

#include "stacklens/ui/connected/connection_dialog.h"
#include "stacklens/ui/connected/false_positive_labels.h"
#include "stacklens/ui/connected/live_panel.h"
#include "stacklens/ui/connected/pg_session.h"
#include "stacklens/ui/connected/production_panel.h"
#include "stacklens/ui/connected/shadow_history.h"
#include "stacklens/ui/connected/shadow_panel.h"
#include "stacklens/ui/main_window.h"
#include "stacklens/ui/tuning/tuning_model.h"
#include "stacklens/ui/tuning/tuning_toml.h"
#include "stacklens/ui/workspace/workspace.h"

namespace stacklens::ui {

ConnectedWorkbench::ConnectedWorkbench(MainWindow* window)
    : QObject(window), window_(window), panel_(new ProductionPanel) {
  dock_ = new QDockWidget(tr("Production"), window);
  dock_->setObjectName("productionDock");
  dock_->setWidget(panel_);
  window->addDockWidget(Qt::BottomDockWidgetArea, dock_);
  dock_->hide();  // shown once connected

  live_ = new LivePanel;
  shadow_ = new ShadowPanel([window] { return window->tuning()->config().detection; });
  connect(live_->tail(), &LiveTail::messagesArrived, shadow_, &ShadowPanel::onMessages);
  auto* tabs = new QTabWidget;
  tabs->addTab(live_, tr("Live"));
  tabs->addTab(shadow_, tr("Shadow"));
  liveDock_ = new QDockWidget(tr("Live"), window);
  liveDock_->setObjectName("liveDock");
  liveDock_->setWidget(tabs);
  window->addDockWidget(Qt::BottomDockWidgetArea, liveDock_);
  liveDock_->hide();

  // Before the last menu (Help).
  auto* menu = new QMenu(tr("&Connection"), window);
  const QList<QAction*> menus = window->menuBar()->actions();
  window->menuBar()->insertMenu(menus.isEmpty() ? nullptr : menus.back(), menu);
  connect_ = menu->addAction(tr("&Connect to Production…"), this, &ConnectedWorkbench::showConnectDialog);
  connect_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
  disconnect_ = menu->addAction(tr("&Disconnect"), this, &ConnectedWorkbench::disconnectFromProduction);
  disconnect_->setEnabled(false);
  menu->addSeparator();
  deploy_ = menu->addAction(tr("Deploy &Tuned Configuration…"), this, &ConnectedWorkbench::showDeployDialog);
  deploy_->setEnabled(false);
  menu->addSeparator();
  menu->addAction(dock_->toggleViewAction());
  menu->addAction(liveDock_->toggleViewAction());

  connect(panel_, &ProductionPanel::errorOccurred, this,
          [this](const QString& message) { window_->statusBar()->showMessage(message, 10000); });
  connect(panel_, &ProductionPanel::triaged, this,
          [this](const QString& id, AnomalyTriage::Action action, const QString& service, const QDateTime& timestamp,
                 const QString& type, const QString& note) {
            window_->statusBar()->showMessage(tr("%1: %2").arg(id, AnomalyTriage::actionName(action)), 8000);
            if (action != AnomalyTriage::Action::kFalsePositive || !window_->workspace()) return;
            try {
              FalsePositiveLabels::add(window_->workspace()->path(),
                                       {id, service, timestamp, type, note, userName(), QDateTime::currentDateTimeUtc()});
            } catch (const std::exception& e) {
              window_->statusBar()->showMessage(QString::fromStdString(e.what()), 10000);
            }
          });
}

ConnectedWorkbench::~ConnectedWorkbench() = default;

QString ConnectedWorkbench::userName() {
  for (const char* variable : {"STACKLENS_USER", "USER", "LOGNAME"}) {
    const QString value = qEnvironmentVariable(variable);
    if (!value.isEmpty()) return value;
  }
  return QStringLiteral("workbench");
}

ConnectionDiagnosis ConnectedWorkbench::connectTo(const ConnectionProfile& profile, const QString& pgPassword,
                                                  const QString& kafkaPassword) {
  disconnectFromProduction();
  ConnectionDiagnosis diagnosis = diagnosePostgres(profile.pg, pgPassword);
  if (!diagnosis.ok()) return diagnosis;
  auto session = std::make_unique<PgSession>(profile.pg, pgPassword);
  if (!session->open()) {
    diagnosis.kind = classifyPgFailure(session->lastError().databaseText(), {});
    diagnosis.summary = tr("Cannot connect: %1").arg(session->lastError().databaseText());
    return diagnosis;
  }
  profile_ = profile;
  session_ = std::move(session);
  panel_->setConnection(session_->connectionName(), userName());
  shadow_->setHistoryLoader([this](const std::string& service, core::EpochSeconds end) {
    return loadServiceHistory(session_->database(), service, end);
  });
  dock_->show();
  if (!profile.kafka.bootstrapServers.isEmpty()) {
    live_->tail()->start(profile.kafka, kafkaPassword);
    liveDock_->show();
  }
  disconnect_->setEnabled(true);
  deploy_->setEnabled(true);
  window_->statusBar()->showMessage(tr("Connected to %1 (%2)").arg(profile.name, diagnosis.summary), 8000);
  emit connectionChanged(true);
  return diagnosis;
}

void ConnectedWorkbench::disconnectFromProduction() {
  if (!session_) return;
  panel_->setConnection({}, {});
  live_->tail()->stop();
  shadow_->setActive(false);
  shadow_->setHistoryLoader({});
  session_.reset();
  disconnect_->setEnabled(false);
  deploy_->setEnabled(false);
  emit connectionChanged(false);
}

void ConnectedWorkbench::showConnectDialog() {
  QSettings settings;
  ConnectionDialog dialog(settings, window_);
  if (dialog.exec() != QDialog::Accepted) return;
  const ConnectionDiagnosis d = connectTo(dialog.profile(), dialog.pgPassword(), dialog.kafkaPassword());
  if (!d.ok()) window_->statusBar()->showMessage(tr("Not connected: %1").arg(d.summary), 15000);
}

}  // namespace stacklens::ui

namespace stacklens::ui {

std::optional<ConfigVersion> ConnectedWorkbench::deployTuned(const QString& note, QString* error) {
  if (!session_) {
    if (error) *error = tr("not connected");
    return std::nullopt;
  }
  ConfigDeployer deployer(session_->database(), userName());
  auto version = deployer.publish(QString::fromStdString(tuningToToml(window_->tuning()->config())), note);
  if (!version && error) *error = deployer.error();
  return version;
}

std::optional<ConfigVersion> ConnectedWorkbench::rollBack(int version, QString* error) {
  if (!session_) {
    if (error) *error = tr("not connected");
    return std::nullopt;
  }
  ConfigDeployer deployer(session_->database(), userName());
  auto restored = deployer.rollback(version);
  if (!restored && error) *error = deployer.error();
  return restored;
}

// The running version, the diff the tuned settings would deploy, a note, and the history to roll
// back to.
void ConnectedWorkbench::showDeployDialog() {
  if (!session_) return;
  ConfigDeployer deployer(session_->database(), userName());
  const QString tuned = QString::fromStdString(tuningToToml(window_->tuning()->config()));
  const auto running = deployer.running();
  QDialog dialog(window_);
  dialog.setWindowTitle(tr("Deploy tuned configuration"));
  auto* diff = new QPlainTextEdit(lineDiff(running ? running->toml : QString(), tuned));
  diff->setReadOnly(true);
  auto* note = new QLineEdit;
  note->setPlaceholderText(tr("why (kept with the version)"));
  auto* history = new QListWidget;
  for (const ConfigVersion& v : deployer.history()) {
    auto* item = new QListWidgetItem(tr("v%1 · %2 · %3 · %4")
                                         .arg(v.version)
                                         .arg(v.createdAt.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm")), v.author, v.note));
    item->setData(Qt::UserRole, v.version);
    history->addItem(item);
  }
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
  QPushButton* deploy = buttons->addButton(tr("Deploy as v%1").arg(running ? running->version + 1 : 1), QDialogButtonBox::AcceptRole);
  QPushButton* rollback = buttons->addButton(tr("Roll back to selected"), QDialogButtonBox::ActionRole);
  auto* layout = new QVBoxLayout(&dialog);
  layout->addWidget(new QLabel(running ? tr("Running: v%1 by %2").arg(running->version).arg(running->author)
                                       : tr("Nothing deployed yet: the services run their startup files")));
  layout->addWidget(new QLabel(tr("Changes against the running version:")));
  layout->addWidget(diff, 1);
  layout->addWidget(note);
  layout->addWidget(new QLabel(tr("History:")));
  layout->addWidget(history);
  layout->addWidget(buttons);
  QString error;
  connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
  connect(deploy, &QPushButton::clicked, &dialog, [&] {
    if (const auto v = deployTuned(note->text(), &error)) {
      window_->statusBar()->showMessage(tr("Deployed configuration v%1").arg(v->version), 10000);
      dialog.accept();
    } else {
      diff->setPlainText(tr("Not deployed: %1").arg(error));
    }
  });
  connect(rollback, &QPushButton::clicked, &dialog, [&] {
    if (!history->currentItem()) return;
    if (const auto v = rollBack(history->currentItem()->data(Qt::UserRole).toInt(), &error)) {
      window_->statusBar()->showMessage(tr("Rolled back: v%1 restores v%2").arg(v->version).arg(v->rollbackOf), 10000);
      dialog.accept();
    } else {
      diff->setPlainText(tr("Not rolled back: %1").arg(error));
    }
  });
  dialog.resize(700, 600);
  dialog.exec();
}

}  // namespace stacklens::ui

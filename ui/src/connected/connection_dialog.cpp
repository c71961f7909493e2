#include "stacklens/ui/connected/connection_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

namespace stacklens::ui {

ConnectionDialog::ConnectionDialog(QSettings& settings, QWidget* parent) : QDialog(parent), settings_(settings) {
  setObjectName("connectionDialog");
  setWindowTitle(tr("Connect to production"));
  profiles_ = new QComboBox;
  name_ = new QLineEdit;
  host_ = new QLineEdit;
  port_ = new QSpinBox;
  port_->setRange(1, 65535);
  database_ = new QLineEdit;
  user_ = new QLineEdit;
  sslMode_ = new QComboBox;
  sslMode_->addItems(sslModes());
  rootCert_ = new QLineEdit;
  rootCert_->setPlaceholderText(tr("CA file for verify-ca / verify-full"));
  pgPasswordEnv_ = new QLineEdit;
  pgPasswordEnv_->setPlaceholderText(tr("e.g. STACKLENS_PG_PASSWORD"));
  pgPassword_ = new QLineEdit;
  pgPassword_->setEchoMode(QLineEdit::Password);
  bootstrap_ = new QLineEdit;
  bootstrap_->setPlaceholderText(tr("host:9092,host:9092"));
  protocol_ = new QComboBox;
  protocol_->addItems(kafkaSecurityProtocols());
  saslMechanism_ = new QLineEdit;
  saslMechanism_->setPlaceholderText(tr("PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"));
  saslUser_ = new QLineEdit;
  caLocation_ = new QLineEdit;
  kafkaPasswordEnv_ = new QLineEdit;
  kafkaPassword_ = new QLineEdit;
  kafkaPassword_->setEchoMode(QLineEdit::Password);
  rememberInKeychain_ = new QCheckBox(tr("Remember passwords in the system keychain"));
  rememberInKeychain_->setEnabled(PasswordSource::keychainAvailable());
  if (!rememberInKeychain_->isEnabled()) rememberInKeychain_->setToolTip(tr("No system keychain in this build or session"));
  test_ = new QPushButton(tr("Test connection"));
  result_ = new QLabel;
  result_->setObjectName("connectionResult");
  result_->setWordWrap(true);
  result_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* top = new QFormLayout;
  top->addRow(tr("Profile"), profiles_);
  top->addRow(tr("Name"), name_);
  auto* pgBox = new QGroupBox(tr("PostgreSQL"));
  auto* pg = new QFormLayout(pgBox);
  pg->addRow(tr("Host"), host_);
  pg->addRow(tr("Port"), port_);
  pg->addRow(tr("Database"), database_);
  pg->addRow(tr("User"), user_);
  pg->addRow(tr("SSL mode"), sslMode_);
  pg->addRow(tr("Root certificate"), rootCert_);
  pg->addRow(tr("Password variable"), pgPasswordEnv_);
  pg->addRow(tr("Password"), pgPassword_);
  auto* kafkaBox = new QGroupBox(tr("Kafka"));
  auto* kafka = new QFormLayout(kafkaBox);
  kafka->addRow(tr("Bootstrap servers"), bootstrap_);
  kafka->addRow(tr("Security protocol"), protocol_);
  kafka->addRow(tr("SASL mechanism"), saslMechanism_);
  kafka->addRow(tr("SASL user"), saslUser_);
  kafka->addRow(tr("CA location"), caLocation_);
  kafka->addRow(tr("Password variable"), kafkaPasswordEnv_);
  kafka->addRow(tr("Password"), kafkaPassword_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
  buttons->addButton(test_, QDialogButtonBox::ActionRole);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(pgBox);
  layout->addWidget(kafkaBox);
  layout->addWidget(rememberInKeychain_);
  layout->addWidget(result_);
  layout->addWidget(buttons);

  for (const ConnectionProfile& p : loadProfiles(settings_)) profiles_->addItem(p.name);
  if (profiles_->count() == 0) setProfile(ConnectionProfile{QStringLiteral("production"), {}, {}, false});
  else loadSelected();
  connect(profiles_, &QComboBox::currentTextChanged, this, &ConnectionDialog::loadSelected);
  connect(test_, &QPushButton::clicked, this, [this] { testConnection(); });
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    storeProfile();
    accept();
  });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
}

ConnectionProfile ConnectionDialog::profile() const {
  ConnectionProfile p;
  p.name = name_->text().trimmed();
  p.pg.host = host_->text().trimmed();
  p.pg.port = port_->value();
  p.pg.database = database_->text().trimmed();
  p.pg.user = user_->text().trimmed();
  p.pg.sslMode = sslMode_->currentText();
  p.pg.rootCertificate = rootCert_->text().trimmed();
  p.pg.passwordVariable = pgPasswordEnv_->text().trimmed();
  p.kafka.bootstrapServers = bootstrap_->text().trimmed();
  p.kafka.securityProtocol = protocol_->currentText();
  p.kafka.saslMechanism = saslMechanism_->text().trimmed();
  p.kafka.saslUser = saslUser_->text().trimmed();
  p.kafka.caLocation = caLocation_->text().trimmed();
  p.kafka.passwordVariable = kafkaPasswordEnv_->text().trimmed();
  p.useKeychain = rememberInKeychain_->isChecked();
  return p;
}

void ConnectionDialog::setProfile(const ConnectionProfile& p) {
  name_->setText(p.name);
  host_->setText(p.pg.host);
  port_->setValue(p.pg.port);
  database_->setText(p.pg.database);
  user_->setText(p.pg.user);
  sslMode_->setCurrentText(p.pg.sslMode);
  rootCert_->setText(p.pg.rootCertificate);
  pgPasswordEnv_->setText(p.pg.passwordVariable);
  bootstrap_->setText(p.kafka.bootstrapServers);
  protocol_->setCurrentText(p.kafka.securityProtocol);
  saslMechanism_->setText(p.kafka.saslMechanism);
  saslUser_->setText(p.kafka.saslUser);
  caLocation_->setText(p.kafka.caLocation);
  kafkaPasswordEnv_->setText(p.kafka.passwordVariable);
  rememberInKeychain_->setChecked(p.useKeychain && rememberInKeychain_->isEnabled());
  fillPasswords();
}

QString ConnectionDialog::pgPassword() const { return pgPassword_->text(); }
QString ConnectionDialog::kafkaPassword() const { return kafkaPassword_->text(); }
void ConnectionDialog::setPgPassword(const QString& password) { pgPassword_->setText(password); }

void ConnectionDialog::loadSelected() {
  for (const ConnectionProfile& p : loadProfiles(settings_))
    if (p.name == profiles_->currentText()) return setProfile(p);
}

void ConnectionDialog::fillPasswords() {
  const ConnectionProfile p = profile();
  pgPassword_->setText(
      PasswordSource::lookup(p.name, PasswordSource::Kind::kPostgres, p.pg.passwordVariable, p.useKeychain)
          .value_or(QString()));
  kafkaPassword_->setText(
      PasswordSource::lookup(p.name, PasswordSource::Kind::kKafka, p.kafka.passwordVariable, p.useKeychain)
          .value_or(QString()));
}

void ConnectionDialog::storeProfile() {
  const ConnectionProfile p = profile();
  if (p.name.isEmpty()) return;
  saveProfile(settings_, p);
  if (!rememberInKeychain_->isChecked()) return;
  QString error;
  if ((!pgPassword().isEmpty() &&
       !PasswordSource::storeInKeychain(p.name, PasswordSource::Kind::kPostgres, pgPassword(), &error)) ||
      (!kafkaPassword().isEmpty() &&
       !PasswordSource::storeInKeychain(p.name, PasswordSource::Kind::kKafka, kafkaPassword(), &error)))
    result_->setText(tr("Profile saved; the keychain refused the password: %1").arg(error));
}

ConnectionDiagnosis ConnectionDialog::testConnection() {
  const ConnectionProfile p = profile();
  result_->setText(tr("Testing…"));
  pgDiagnosis_ = diagnosePostgres(p.pg, pgPassword());
  kafkaDiagnosis_ = p.kafka.bootstrapServers.isEmpty()
                        ? ConnectionDiagnosis{ConnectionDiagnosis::Kind::kOk, tr("(no Kafka configured)"), {}, 0, 0, {}}
                        : diagnoseKafka(p.kafka, kafkaPassword());
  auto line = [](const QString& what, const ConnectionDiagnosis& d) {
    return QStringLiteral("%1 %2: %3%4")
        .arg(d.ok() ? QStringLiteral("✔") : QStringLiteral("✘"), what, d.summary,
             d.detail.isEmpty() ? QString() : QStringLiteral("\n    ") + d.detail);
  };
  result_->setText(line(tr("PostgreSQL"), pgDiagnosis_) + '\n' + line(tr("Kafka"), kafkaDiagnosis_));
  return pgDiagnosis_;
}

}  // namespace stacklens::ui

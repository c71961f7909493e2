#pragma once
// Connection ▸ Connect…: edit, store and test connection profiles. Profiles go to QSettings without
// passwords; the password fields are filled from the profile's environment variable or the
// keychain when those have one, else typed here (and optionally stored in the keychain).

#include <QDialog>

#include "stacklens/ui/connected/connection_diagnosis.h"
#include "stacklens/ui/connected/connection_profile.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSettings;
class QSpinBox;

namespace stacklens::ui {

class ConnectionDialog : public QDialog {
  Q_OBJECT
 public:
  /// Lists and stores profiles in `settings` (which must outlive the dialog).
  explicit ConnectionDialog(QSettings& settings, QWidget* parent = nullptr);

  /// The form's profile (name and both sides).
  ConnectionProfile profile() const;
  void setProfile(const ConnectionProfile& profile);
  QString pgPassword() const;
  QString kafkaPassword() const;
  void setPgPassword(const QString& password);

  /// Runs both tests now and shows the result; returns the PostgreSQL diagnosis.
  ConnectionDiagnosis testConnection();
  const ConnectionDiagnosis& lastPgDiagnosis() const { return pgDiagnosis_; }
  const ConnectionDiagnosis& lastKafkaDiagnosis() const { return kafkaDiagnosis_; }
  /// Stores the form's profile (never the passwords; with "remember", those go to the keychain).
  void storeProfile();
  QLabel* resultLabel() const { return result_; }
  QPushButton* testButton() const { return test_; }

 private:
  void loadSelected();
  void fillPasswords();

  QSettings& settings_;
  QComboBox* profiles_;
  QLineEdit* name_;
  QLineEdit* host_;
  QSpinBox* port_;
  QLineEdit* database_;
  QLineEdit* user_;
  QComboBox* sslMode_;
  QLineEdit* rootCert_;
  QLineEdit* pgPasswordEnv_;
  QLineEdit* pgPassword_;
  QLineEdit* bootstrap_;
  QComboBox* protocol_;
  QLineEdit* saslMechanism_;
  QLineEdit* saslUser_;
  QLineEdit* caLocation_;
  QLineEdit* kafkaPasswordEnv_;
  QLineEdit* kafkaPassword_;
  QCheckBox* rememberInKeychain_;
  QPushButton* test_;
  QLabel* result_;
  ConnectionDiagnosis pgDiagnosis_;
  ConnectionDiagnosis kafkaDiagnosis_;
};

}  // namespace stacklens::ui

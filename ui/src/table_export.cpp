#include "stacklens/ui/table_export.h"

#include <QAbstractItemModel>
#include <QFile>
#include <QSaveFile>
#include <QTextStream>

namespace stacklens::ui {

QString csvField(const QString& text) {
  if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) && !text.contains(QLatin1Char('\n')) &&
      !text.contains(QLatin1Char('\r')))
    return text;
  QString quoted = text;
  quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
  return QLatin1Char('"') + quoted + QLatin1Char('"');
}

void writeModelCsv(const QAbstractItemModel& model, QTextStream& out) {
  QStringList fields;
  for (int c = 0; c < model.columnCount(); ++c) fields << csvField(model.headerData(c, Qt::Horizontal).toString());
  out << fields.join(QLatin1Char(',')) << '\n';
  for (int r = 0; r < model.rowCount(); ++r) {
    fields.clear();
    for (int c = 0; c < model.columnCount(); ++c) {
      const QModelIndex index = model.index(r, c);
      const QVariant exported = index.data(kExportRole);
      fields << csvField(exported.isValid() ? exported.toString() : index.data(Qt::DisplayRole).toString());
    }
    out << fields.join(QLatin1Char(',')) << '\n';
  }
}

bool writeModelCsv(const QAbstractItemModel& model, const QString& path, QString* error) {
  QSaveFile file(path);  // all or nothing: a failed export leaves no half-written file
  if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) {
    if (error) *error = QObject::tr("Cannot write %1: %2").arg(path, file.errorString());
    return false;
  }
  QTextStream out(&file);
  writeModelCsv(model, out);
  out.flush();
  if (!file.commit()) {
    if (error) *error = QObject::tr("Cannot write %1: %2").arg(path, file.errorString());
    return false;
  }
  return true;
}

}  // namespace stacklens::ui

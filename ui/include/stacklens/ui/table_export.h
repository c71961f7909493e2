#pragma once
// Tables to CSV (RFC 4180): any item model, as the user sees it (sorted and filtered when it is a
// proxy). A cell's kExportRole, when set, is written instead of its display text (e.g. the
// severity breakdown behind a count).

#include <QString>
#include <Qt>

class QAbstractItemModel;
class QTextStream;

namespace stacklens::ui {

inline constexpr int kExportRole = Qt::UserRole + 100;

/// Writes the header and every row. Returns false with `error` set when the file cannot be written.
bool writeModelCsv(const QAbstractItemModel& model, const QString& path, QString* error = nullptr);
/// The same into a stream (tests, clipboard).
void writeModelCsv(const QAbstractItemModel& model, QTextStream& out);
/// One CSV field, quoted when it holds a comma, quote or line break.
QString csvField(const QString& text);

}  // namespace stacklens::ui

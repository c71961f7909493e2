#include "stacklens/ui/severity_style.h"

namespace stacklens::ui {

QColor severityColor(core::Severity severity) {
  switch (severity) {
    case core::Severity::kLow: return QColor(0xe0, 0xb4, 0x1b);
    case core::Severity::kMedium: return QColor(0xf1, 0x8f, 0x01);
    case core::Severity::kHigh: return QColor(0xd7, 0x26, 0x3d);
    case core::Severity::kCritical: return QColor(0x8e, 0x10, 0x8e);
  }
  return QColor(Qt::red);
}

QString severityName(core::Severity severity) {
  const auto name = core::toString(severity);
  return QString::fromLatin1(name.data(), static_cast<qsizetype>(name.size()));
}

}  // namespace stacklens::ui

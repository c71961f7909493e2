#pragma once
// How severities look everywhere in the workbench (charts, explorer, backtest tables).

#include <QColor>
#include <QString>

#include "stacklens/core/records.h"

namespace stacklens::ui {

/// Yellow, orange, red, purple for low, medium, high, critical.
QColor severityColor(core::Severity severity);
/// "low", "medium", "high", "critical" (the contract's names).
QString severityName(core::Severity severity);

}  // namespace stacklens::ui

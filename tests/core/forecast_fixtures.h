#pragma once
// Reading the forecasting fixtures of tests/data/forecast (see generate_reference.py and
// generate_decomposition.R there) and comparing with relative tolerances.
#include <QFile>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace forecast_fixtures {

inline QString path(const QString& name) { return QStringLiteral(STACKLENS_TEST_DATA_DIR "/forecast/") + name; }

/// A single-column `value` CSV ("nan" for missing values).
inline std::vector<double> readSeries(const QString& name) {
  QFile file(path(name));
  if (!file.open(QIODevice::ReadOnly)) qFatal("cannot open %s", qPrintable(file.fileName()));
  std::vector<double> values;
  file.readLine();  // header
  while (!file.atEnd()) {
    const QByteArray line = file.readLine().trimmed();
    if (!line.isEmpty()) values.push_back(line == "nan" ? std::nan("") : line.toDouble());
  }
  return values;
}

using Reference = std::map<std::string, std::vector<double>>;

/// "key v1 v2 ..." lines; '#' lines are comments; "nan" reads as NaN.
inline Reference readReference(const QString& name) {
  QFile file(path(name));
  if (!file.open(QIODevice::ReadOnly)) qFatal("cannot open %s", qPrintable(file.fileName()));
  Reference out;
  while (!file.atEnd()) {
    const QByteArray line = file.readLine().trimmed();
    if (line.isEmpty() || line.startsWith('#')) continue;
    const QList<QByteArray> fields = line.split(' ');
    std::vector<double> values;
    for (qsizetype i = 1; i < fields.size(); ++i)
      values.push_back(fields[i] == "nan" ? std::nan("") : fields[i].toDouble());
    out[fields[0].toStdString()] = values;
  }
  return out;
}

inline bool closeRelative(double actual, double expected, double tolerance) {
  if (std::isnan(actual) || std::isnan(expected)) return std::isnan(actual) && std::isnan(expected);
  return std::abs(actual - expected) <= tolerance * std::max(std::abs(expected), 1e-12);
}

/// Largest |a - b| / max(|b|, floor) over two equally long vectors (NaN must match NaN).
inline double maxRelativeError(const std::vector<double>& a, const std::vector<double>& b, double floor) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) {
      if (std::isnan(a[i]) != std::isnan(b[i])) return INFINITY;
      continue;
    }
    worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(std::abs(b[i]), floor));
  }
  return worst;
}

}  // namespace forecast_fixtures

#define COMPARE_REL(actual, expected, tol)                                                                       \
  QVERIFY2(forecast_fixtures::closeRelative((actual), (expected), (tol)),                                        \
           qPrintable(QStringLiteral("%1 = %2, expected %3 (relative tolerance %4)")                             \
                          .arg(#actual)                                                                          \
                          .arg((actual), 0, 'g', 12)                                                             \
                          .arg((expected), 0, 'g', 12)                                                           \
                          .arg(tol)))

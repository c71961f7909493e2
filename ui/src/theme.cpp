#include "stacklens/ui/theme.h"

#include <QApplication>
#include <QFile>
#include <QPalette>
#include <QStyle>
#include <QStyleFactory>

// Q_INIT_RESOURCE must be used outside any namespace.
static void initStackLensResources() { Q_INIT_RESOURCE(stacklens); }

namespace stacklens::ui {

void initResources() { initStackLensResources(); }

namespace {

QPalette darkPalette() {
  QPalette p;
  const QColor window(0x2b, 0x2d, 0x31), base(0x1f, 0x21, 0x24), text(0xe6, 0xe6, 0xe6), mid(0x5a, 0x5d, 0x63);
  p.setColor(QPalette::Window, window);
  p.setColor(QPalette::WindowText, text);
  p.setColor(QPalette::Base, base);
  p.setColor(QPalette::AlternateBase, QColor(0x26, 0x28, 0x2c));
  p.setColor(QPalette::ToolTipBase, window);
  p.setColor(QPalette::ToolTipText, text);
  p.setColor(QPalette::Text, text);
  p.setColor(QPalette::Button, window);
  p.setColor(QPalette::ButtonText, text);
  p.setColor(QPalette::BrightText, Qt::red);
  p.setColor(QPalette::Mid, mid);
  p.setColor(QPalette::Link, QColor(0x4f, 0xc3, 0xf7));
  p.setColor(QPalette::Highlight, QColor(0x2f, 0x6f, 0xb5));
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::PlaceholderText, QColor(0x9a, 0x9a, 0x9a));
  for (QPalette::ColorRole role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
    p.setColor(QPalette::Disabled, role, QColor(0x80, 0x80, 0x80));
  return p;
}

}  // namespace

void applyTheme(QApplication& app, Theme theme) {
  initResources();
  app.setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
  QPalette palette = theme == Theme::kDark ? darkPalette() : app.style()->standardPalette();
  if (theme == Theme::kLight) palette.setColor(QPalette::Link, QColor(0x1f, 0x5f, 0xa8));
  app.setPalette(palette);
  QFile qss(QStringLiteral(":/stacklens/themes/%1.qss").arg(themeName(theme)));
  app.setStyleSheet(qss.open(QIODevice::ReadOnly) ? QString::fromUtf8(qss.readAll()) : QString());
}

QString themeName(Theme theme) { return theme == Theme::kDark ? QStringLiteral("dark") : QStringLiteral("light"); }

Theme themeFromName(const QString& name) { return name == QLatin1String("dark") ? Theme::kDark : Theme::kLight; }

}  // namespace stacklens::ui

#pragma once
// The light and dark themes: the Fusion style with a palette and a small style sheet
// (resources/themes/*.qss).

#include <QString>

class QApplication;

namespace stacklens::ui {

enum class Theme { kLight, kDark };

/// Registers the workbench's compiled-in resources (icons, themes). Call once before using them.
void initResources();

/// Applies the theme to the whole application.
void applyTheme(QApplication& app, Theme theme);

QString themeName(Theme theme);  ///< "light", "dark"
Theme themeFromName(const QString& name);  ///< anything but "dark" is light

}  // namespace stacklens::ui

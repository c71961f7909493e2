#pragma once
// The migrations compiled in from sql/migrations (see engine/connect/CMakeLists.txt).

#include <cstddef>

namespace stacklens::connect::detail {

struct EmbeddedMigration {
  int version;       // NNNN of the file name
  const char* name;  // the file name without .sql
  const char* sql;   // the file's text
};

extern const EmbeddedMigration kEmbeddedMigrations[];
extern const std::size_t kEmbeddedMigrationCount;

}  // namespace stacklens::connect::detail

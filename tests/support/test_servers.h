#pragma once
// Addresses of the real servers that tests/harness/with-servers starts around the test run.
// Use STACKLENS_REQUIRE_POSTGRES() / STACKLENS_REQUIRE_KAFKA() at the top of a test: when the
// server is missing the test fails under CI=true and skips otherwise, with the reason.

#include <QString>
#include <QtTest>

namespace stacklens::test {

inline QString environment(const char* name) { return qEnvironmentVariable(name); }

inline bool underCi() { return qEnvironmentVariable("CI") == QLatin1String("true"); }

/// libpq connection string of a superuser on the throwaway database "stacklens".
inline QString postgresDsn() { return environment("STACKLENS_TEST_PG_DSN"); }

/// bootstrap.servers of the 3-broker mock cluster.
inline QString kafkaBootstrap() { return environment("STACKLENS_TEST_KAFKA_BOOTSTRAP"); }

}  // namespace stacklens::test

#define STACKLENS_REQUIRE_SERVER_(value, what)                                                   \
  do {                                                                                          \
    if ((value).isEmpty()) {                                                                    \
      const char* reason_ = what " is not available: run the tests through "                    \
                                 "tests/harness/with-servers (tools/setup test does)";          \
      if (stacklens::test::underCi()) QFAIL(reason_);                                           \
      QSKIP(reason_);                                                                           \
    }                                                                                           \
  } while (false)

#define STACKLENS_REQUIRE_POSTGRES() STACKLENS_REQUIRE_SERVER_(stacklens::test::postgresDsn(), "PostgreSQL")
#define STACKLENS_REQUIRE_KAFKA() STACKLENS_REQUIRE_SERVER_(stacklens::test::kafkaBootstrap(), "The Kafka mock cluster")

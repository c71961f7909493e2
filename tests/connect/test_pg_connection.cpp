// A query on the throwaway PostgreSQL that the harness started.
#include <QtTest>

#include "stacklens/connect/pg_connection.h"
#include "test_servers.h"

using stacklens::connect::PgConnection;
using stacklens::connect::PgError;

class TestPgConnection : public QObject {
  Q_OBJECT
 private slots:
  void queriesTheRealServer() {
    STACKLENS_REQUIRE_POSTGRES();
    PgConnection db(stacklens::test::postgresDsn().toStdString());
    QVERIFY(db.serverVersion() >= 150000);
    QCOMPARE(db.queryScalar("SELECT current_database()").value(), std::string("stacklens"));
    QCOMPARE(db.queryScalar("SELECT current_setting('fsync')").value(), std::string("off"));
    QCOMPARE(db.queryScalar("SELECT $1::int + $2::int", {"40", "2"}).value(), std::string("42"));
  }

  void parametersStayData() {
    STACKLENS_REQUIRE_POSTGRES();
    PgConnection db(stacklens::test::postgresDsn().toStdString());
    db.execute("CREATE TEMP TABLE names (name text)");
    const std::string hostile = "api'); DROP TABLE names; --";
    db.queryScalar("INSERT INTO names VALUES ($1)", {hostile});
    QCOMPARE(db.queryScalar("SELECT name FROM names").value(), hostile);
  }

  void reportsErrorsClearly() {
    STACKLENS_REQUIRE_POSTGRES();
    PgConnection db(stacklens::test::postgresDsn().toStdString());
    try {
      db.queryScalar("SELECT * FROM no_such_table");
      QFAIL("expected PgError");
    } catch (const PgError& e) {
      QVERIFY2(QString(e.what()).contains("no_such_table"), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(PgError, PgConnection("host=127.0.0.1 port=1 connect_timeout=2"));
  }
};

QTEST_GUILESS_MAIN(TestPgConnection)
#include "test_pg_connection.moc"

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

  // The extended protocol commits at the Sync after CommandComplete: a backend that dies in
  // between (here while a deferred trigger runs at commit) leaves the client a successful result
  // for a statement that never committed. receive() must report the failure, not the result.
  void aStatementWhoseCommitIsCutOffIsNotAcknowledged() {
    STACKLENS_REQUIRE_POSTGRES();
    const std::string dsn = stacklens::test::postgresDsn().toStdString();
    const std::string table = "commit_cut_" + std::to_string(QCoreApplication::applicationPid());
    PgConnection admin(dsn);
    admin.execute("CREATE TABLE " + table + " (name text)");
    admin.execute("CREATE FUNCTION " + table + "_slow() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$");
    admin.execute("CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON " + table +
                  " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION " + table + "_slow()");
    PgConnection writer(dsn);
    const std::string pid = writer.queryScalar("SELECT pg_backend_pid()").value();
    writer.prepare("cut_insert", "INSERT INTO " + table + " VALUES ($1::text)");
    writer.sendPreparedBinary("cut_insert", {"lost"});
    QTRY_VERIFY_WITH_TIMEOUT(
        admin.queryScalar("SELECT wait_event FROM pg_stat_activity WHERE pid = $1::int", {pid}).value_or("") ==
            "PgSleep",
        20000);  // the INSERT is done and its CommandComplete sent; the commit is sleeping
    admin.queryScalar("SELECT pg_terminate_backend($1::int)", {pid});
    QVERIFY_THROWS_EXCEPTION(PgError, writer.receive("cut_insert"));
    QCOMPARE(admin.queryScalar("SELECT count(*) FROM " + table).value(), std::string("0"));
    admin.execute("DROP TABLE " + table);
    admin.execute("DROP FUNCTION " + table + "_slow()");
  }
};

QTEST_GUILESS_MAIN(TestPgConnection)
#include "test_pg_connection.moc"

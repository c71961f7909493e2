-- 0010: ml_anomaly_stats_pending (0008) is a log that every roll-up empties: its rows are dead a
-- second after they were written. The store vacuums it after its roll-ups; for other writers
-- (psql, a role that does not own the table) autovacuum should not wait for 20 % of a table that
-- is nearly always empty.
ALTER TABLE ml_anomaly_stats_pending SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
                                          autovacuum_vacuum_insert_scale_factor = 0,
                                          autovacuum_vacuum_insert_threshold = 10000);

-- 0009: model versions compressed with LZ4 instead of PostgreSQL's default pglz.
--
-- Every refit writes an isolation forest of ~100 KB (and a DBSCAN model) to ml_models, one per
-- ml.retrain_every messages of a service. pglz took ~11 ms of server CPU per forest on the
-- benchmark machine (300 forest-shaped blobs in one INSERT: 3.5 s, at load 11), as much as the
-- service spends on the refit itself; LZ4 took 1.7 ms (57 → 68 KB stored). Values written before keep
-- their compression. Servers built without LZ4 keep pglz.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE ml_models ALTER COLUMN model_blob SET COMPRESSION lz4;
    END IF;
END
$$;

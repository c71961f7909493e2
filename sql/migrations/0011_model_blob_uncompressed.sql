-- 0011: model blobs stored without compression (STORAGE EXTERNAL), out of line as before.
--
-- Isolation forests are now written in SLIF version 3 (~39 KB instead of ~104 KB for a week of
-- history): a float threshold per split and small varint tags, which LZ4 no longer shrinks (26.3 KB
-- stored a model compressed, 27.2 KB not), while trying still cost the server 500 µs of CPU a
-- model against 175 µs without (bench_pg_store BM_SaveModels: 20 services' refits a batch). Every
-- refit of ml-service writes two. Values written before keep their compression.
ALTER TABLE ml_models ALTER COLUMN model_blob SET STORAGE EXTERNAL;

-- 0007: deployed configurations. The workbench publishes a tuned configuration (the TOML file the
-- services read) as a new version; the highest version is the running one, and a running
-- ml-service picks it up at a batch boundary without a restart. A rollback publishes an earlier
-- version's text again as a new version (rollback_of names it), so the history only grows.
CREATE TABLE ml_config_versions (
    version      integer     NOT NULL,
    config_toml  text        NOT NULL,
    author       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    note         text        NOT NULL DEFAULT '',
    diff         text        NOT NULL DEFAULT '',
    rollback_of  integer,
    CONSTRAINT ml_config_versions_pkey PRIMARY KEY (version),
    CONSTRAINT ml_config_versions_version_check CHECK (version >= 1),
    CONSTRAINT ml_config_versions_author_check CHECK (author <> ''),
    CONSTRAINT ml_config_versions_rollback_fkey FOREIGN KEY (rollback_of) REFERENCES ml_config_versions (version)
);

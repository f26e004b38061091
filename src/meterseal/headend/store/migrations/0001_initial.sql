-- 0001 initial: meters, their event logs, the head-end's watermarks and its collection runs.
-- One text for SQLite and PostgreSQL: {ts} is timestamptz there and ISO-8601 text (with its
-- offset) here, {bool} boolean / integer 0-1, {real} double precision / real, {serial} an
-- auto-numbered primary key. Never edit a migration that has shipped: add the next one.

CREATE TABLE meter (
    address        TEXT PRIMARY KEY,      -- 12 digits as printed on the meter
    manufacturer   TEXT,                  -- what 04 80 00 03 answered; NULL: it did not say
    vendor_records {bool} NOT NULL,       -- read through our manufacturer-specific DIs
    utc_offset_h   {real} NOT NULL,       -- the meter's local standard time
    endpoint       TEXT NOT NULL,         -- the gateway it was last read through
    first_seen     {ts} NOT NULL,
    last_seen      {ts} NOT NULL
);

CREATE TABLE cover_open (
    meter_address     TEXT NOT NULL REFERENCES meter (address),
    seq               BIGINT NOT NULL,    -- all-time sequence number
    opened_at         {ts} NOT NULL,
    closed_at         {ts},
    time_quality      TEXT NOT NULL CHECK (time_quality IN
                          ('exact', 'deferred', 'bounded', 'unsynced', 'unknown')),
    close_quality     TEXT,
    not_before        {ts},
    not_after         {ts},
    import_before_kwh {real} NOT NULL,
    export_before_kwh {real} NOT NULL,
    import_after_kwh  {real},
    export_after_kwh  {real},
    cleared           {bool} NOT NULL,    -- hidden from the standard view by an event clear
    PRIMARY KEY (meter_address, seq)
);

CREATE TABLE power_down (
    meter_address TEXT NOT NULL REFERENCES meter (address),
    seq           BIGINT NOT NULL,
    started_at    {ts} NOT NULL,
    ended_at      {ts},
    time_quality  TEXT NOT NULL,
    end_quality   TEXT,
    cleared       {bool} NOT NULL,
    PRIMARY KEY (meter_address, seq)
);

CREATE TABLE event_clear (
    meter_address TEXT NOT NULL REFERENCES meter (address),
    seq           BIGINT NOT NULL,        -- the meter's event-clear count (never cleared)
    cleared_at    {ts} NOT NULL,
    operator      TEXT NOT NULL,          -- C0 C1 C2 C3, hex, wire order
    di            TEXT NOT NULL,          -- the identifier cleared, DI3..DI0
    PRIMARY KEY (meter_address, seq)
);

-- Per meter and event kind: the highest all-time seq ingested, and the oldest one ingested
-- while still open (its close half is still to come). For a meter read through the standard
-- DIs only, base is the all-time seq its standard count starts from (advanced at each clear).
CREATE TABLE watermark (
    meter_address TEXT NOT NULL REFERENCES meter (address),
    kind          TEXT NOT NULL CHECK (kind IN ('cover_open', 'power_down', 'event_clear')),
    seq           BIGINT NOT NULL,
    open_seq      BIGINT,
    base          BIGINT NOT NULL,
    PRIMARY KEY (meter_address, kind)
);

CREATE TABLE collection_run (
    id             {serial},
    started_at     {ts} NOT NULL,
    ended_at       {ts},                  -- NULL: still running, or killed
    endpoints      TEXT NOT NULL,
    meters_total   INTEGER NOT NULL,
    meters_read    INTEGER,
    meters_failed  INTEGER,
    new_events     INTEGER
);

CREATE TABLE collection_problem (
    id            {serial},
    run_id        BIGINT NOT NULL REFERENCES collection_run (id),
    meter_address TEXT,                   -- NULL: the endpoint as a whole
    endpoint      TEXT NOT NULL,
    problem       TEXT NOT NULL,
    at            {ts} NOT NULL
);

-- 0004 terminal cover and clock changes: the terminal cover's openings (03 30 0E, ours under
-- 04 80 0E), kept like the meter cover's; the changes of the meter's clock (time settings
-- 03 30 04, ours also its broadcast times under 04 80 08); a watermark kind for each. The kind
-- check of 0001 cannot be altered in place in SQLite, so the watermark table is rebuilt with its
-- rows.

CREATE TABLE terminal_cover_open (
    meter_address     TEXT NOT NULL REFERENCES meter (address),
    seq               BIGINT NOT NULL,    -- all-time sequence number of the terminal cover's log
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
    cleared           {bool} NOT NULL,
    PRIMARY KEY (meter_address, seq)
);

CREATE INDEX terminal_cover_open_opened_at ON terminal_cover_open (opened_at);

CREATE TABLE clock_change (
    meter_address TEXT NOT NULL REFERENCES meter (address),
    kind          TEXT NOT NULL CHECK (kind IN ('time_set', 'broadcast_time')),
    seq           BIGINT NOT NULL,        -- counted by the head-end from the log's count
    changed_at    {ts} NOT NULL,          -- the meter's clock when it was changed (= before)
    clock_before  {ts} NOT NULL,
    clock_after   {ts} NOT NULL,
    operator      TEXT,                   -- C0 C1 C2 C3, hex, wire order; NULL: a broadcast
    PRIMARY KEY (meter_address, kind, seq)
);

CREATE INDEX clock_change_changed_at ON clock_change (changed_at);

CREATE TABLE watermark_0004 (
    meter_address TEXT NOT NULL REFERENCES meter (address),
    kind          TEXT NOT NULL CHECK (kind IN ('cover_open', 'power_down', 'event_clear',
                                                'terminal_cover', 'time_set',
                                                'broadcast_time')),
    seq           BIGINT NOT NULL,
    open_seq      BIGINT,
    base          BIGINT NOT NULL,
    PRIMARY KEY (meter_address, kind)
);

INSERT INTO watermark_0004 (meter_address, kind, seq, open_seq, base)
    SELECT meter_address, kind, seq, open_seq, base FROM watermark;

DROP TABLE watermark;

ALTER TABLE watermark_0004 RENAME TO watermark;

-- 0003 the utility's register: its customers (who sits on which feeder, and which meter model
-- they have), its meter models with the twin's hardware findings, and its work orders (who was
-- sent to open which meter, when). Loaded by `meterseal register`; analytics read it beside the
-- meters' own records. Addresses are not foreign keys: a customer may be registered before its
-- meter is first collected.

CREATE TABLE customer (
    address       TEXT PRIMARY KEY,       -- the meter's 12-digit address
    customer_id   TEXT NOT NULL,
    customer_type TEXT NOT NULL,          -- household, shop, workshop, ...
    feeder        TEXT NOT NULL,
    gateway       TEXT NOT NULL,
    meter_model   TEXT NOT NULL
);

CREATE TABLE meter_model (
    meter_model          TEXT PRIMARY KEY,
    topology             TEXT NOT NULL,
    supercap_part        TEXT,
    battery              TEXT,
    wake_mode            TEXT,
    sees_outage_openings {bool} NOT NULL, -- false: an opening during an outage leaves no record
    watch_hours          {real}           -- how long it watches the cover after mains loss
);

CREATE TABLE work_order (
    order_id TEXT PRIMARY KEY,
    address  TEXT NOT NULL,
    staff    TEXT NOT NULL,               -- empty: nobody was sent
    start_at {ts} NOT NULL,
    end_at   {ts} NOT NULL,
    reason   TEXT NOT NULL
);

CREATE INDEX work_order_address ON work_order (address);
CREATE INDEX customer_feeder ON customer (feeder);

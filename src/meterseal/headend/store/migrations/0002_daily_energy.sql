-- 0002 daily energy: the meter's daily freeze (energies at the day's freeze time), and the
-- indexes analytics read by time.

CREATE TABLE daily_energy (
    meter_address TEXT NOT NULL REFERENCES meter (address),
    day           {date} NOT NULL,        -- the meter's local day the freeze closes
    import_kwh    {real} NOT NULL,
    export_kwh    {real} NOT NULL,
    frozen_at     {ts} NOT NULL,
    PRIMARY KEY (meter_address, day)
);

CREATE INDEX cover_open_opened_at ON cover_open (opened_at);
CREATE INDEX power_down_started_at ON power_down (started_at);
CREATE INDEX collection_problem_run ON collection_problem (run_id);

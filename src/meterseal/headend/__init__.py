"""The utility side: collection from many meters, the store, theft-suspicion analytics.

Built so far: reader.py and reader698.py, which read one meter over DL/T 645 or DL/T 698.45
into one MeterReading (`meterseal read`).
register.py loads the utility's register (customers, meter models, work orders); analytics/
ranks the store's meters by theft suspicion, with reasons (`meterseal suspects`, the dashboard)."""

"""The utility side: collection from many meters, the store, theft-suspicion analytics.

Built so far: reader.py, which reads one meter over DL/T 645 (`meterseal read`)."""

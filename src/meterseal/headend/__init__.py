"""The utility side: collection from many meters, the store, theft-suspicion analytics.

Not built yet."""

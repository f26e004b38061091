"""The dashboard over the head-end's store.

Not built yet."""

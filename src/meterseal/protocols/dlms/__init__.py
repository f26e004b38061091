"""DLMS/COSEM: the meter's international face (fraud detection log, clock) over the TCP wrapper.

Not built yet."""

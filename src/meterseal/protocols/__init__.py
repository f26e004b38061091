"""The meter's protocol faces: sans-I/O codecs and sessions, with thin transports.

DL/T 645-2007, DL/T 698.45 and DLMS/COSEM."""

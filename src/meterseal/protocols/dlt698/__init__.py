"""DL/T 698.45, the meter's object-oriented face: sans-I/O codec, meter session, thin transports.

``frame`` is the link layer; ``axdr`` and ``refs`` the A-XDR data; ``apdu``, ``services`` and
``access`` the application services. The meter's identifiers: docs/dlt698.md.
"""

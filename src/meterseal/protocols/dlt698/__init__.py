"""DL/T 698.45, the meter's object-oriented face: sans-I/O codec, meter session, thin transports.

``frame`` is the link layer; ``axdr``, ``axdr_time`` and ``refs`` the A-XDR data; ``apdu``,
``services`` and ``access`` the application services; ``values`` and ``events`` the data
catalogue. The meter's identifiers: docs/dlt698.md.
"""

# Every A-XDR type registers its tag with axdr's decoder when its module is imported; importing
# them here means any use of the package decodes every type.
from meterseal.protocols.dlt698 import axdr_time, refs  # noqa: F401

"""What differs between MicroPython and CPython, for the firmware; nothing else lives here.

`const` marks an integer constant. MicroPython folds it only where a module imports it from
`micropython` itself; through this shim it is a plain call, which is correct, just not folded.
"""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x

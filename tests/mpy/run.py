"""Run tests/mpy/test_*.py under MicroPython (or CPython): every module-level test_* function.

    MICROPYPATH=src micropython tests/mpy/run.py [substring ...]

The last line is "N passed, N failed"; the exit status is 1 if anything failed. Only
meterseal.firmware and the helpers in this folder may be imported by the tests.
"""

import os
import sys

try:
    _HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
except NameError:
    _HERE = "."

if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


def _print_exc(e):
    if hasattr(sys, "print_exception"):
        sys.print_exception(e)
    else:
        import traceback

        traceback.print_exception(type(e), e, e.__traceback__)


def main(argv):
    wanted = argv[1:]
    names = sorted(n for n in os.listdir(_HERE) if n.startswith("test_") and n.endswith(".py"))
    passed = 0
    failed = 0
    for fname in names:
        modname = fname[:-3]
        try:
            mod = __import__(modname)
        except Exception as e:
            print("ERROR importing", modname)
            _print_exc(e)
            failed += 1
            continue
        for attr in sorted(dir(mod)):
            if not attr.startswith("test_"):
                continue
            fn = getattr(mod, attr)
            if not callable(fn):
                continue
            full = modname + "." + attr
            if wanted and not any(w in full for w in wanted):
                continue
            try:
                fn()
            except Exception as e:
                failed += 1
                print("FAIL", full)
                _print_exc(e)
            else:
                passed += 1
                print("ok  ", full)
    print(str(passed) + " passed, " + str(failed) + " failed")
    return 1 if failed else 0


sys.exit(main(sys.argv))

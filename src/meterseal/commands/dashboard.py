"""`meterseal dashboard [--db URL] [--host H] [--port P]`: the web dashboard over the store —
the fleet ranked by suspicion with filters, a page per meter (timeline, consumption, reasons)
and per feeder, each with a JSON twin under /api/.

The store is analysed once at start: an empty store, one without the register, one from a newer
meterseal is one line on stderr and exit status 2 before anything listens.
"""

from __future__ import annotations

import argparse
import socket

from meterseal.errors import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from meterseal.headend.store import DEFAULT_URL

    p = sub.add_parser("dashboard", help="the web dashboard over the store")
    p.add_argument("--db", default=DEFAULT_URL, metavar="URL",
                   help=f"the store: sqlite:///PATH or postgresql://… (default {DEFAULT_URL})")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default"
                   " 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.set_defaults(func=cmd_dashboard)


def cmd_dashboard(args: argparse.Namespace) -> int:
    from meterseal.headend.analytics import AnalyticsError, analyse

    if not 0 < args.port < 65536:
        raise UsageError(f"dashboard: --port 1..65535, got {args.port}")
    try:
        analysis = analyse(args.db)
    except AnalyticsError as exc:
        raise UsageError(f"dashboard: {exc}") from None
    import uvicorn

    from meterseal.web.app import create_app

    try:
        # Bound here, not by uvicorn: a port in use is then our one line, not its exit 3.
        sock = socket.create_server((args.host, args.port))
    except OSError as exc:
        analysis.close()
        raise UsageError(f"dashboard: cannot listen on {args.host}:{args.port}"
                         f" ({exc.strerror or exc})") from None
    config = uvicorn.Config(create_app(analysis), log_level="warning", access_log=False)
    print(f"dashboard: {len(analysis.ranking)} meters on http://{args.host}:{args.port}/",
          flush=True)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        analysis.close()
    return 0

"""`python -m glance_operator.testing up`: a local control plane for manual use (`make cluster`)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from glance_operator.testing.cluster import ControlPlane
from glance_operator.testing.processes import ProcessDied


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM unwinds like Ctrl-C, through ControlPlane.__exit__


def _up(args: argparse.Namespace) -> int:
    # Also SIGINT explicitly: Python leaves it ignored when started as a background job.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    print("starting the control plane ...", file=sys.stderr, flush=True)
    try:
        with ControlPlane(args.dir, nodes=args.nodes, build=not args.no_build) as cp:
            versions = cp.api.get("/version")
            if args.webhook_port:
                cert_dir = cp.register_webhooks(args.webhook_port)
                print(f"webhooks registered for https://127.0.0.1:{args.webhook_port} (certs: {cert_dir})", flush=True)
            print(
                f"control plane up in {cp.timings.get('ready', 0):.1f}s: kube-apiserver "
                f"{versions.get('gitVersion')} at {cp.server}, logs in {cp.dir / 'logs'}\n"
                f"\nexport KUBECONFIG={cp.kubeconfig}\n\nPress Ctrl-C to stop.",
                flush=True,
            )
            while True:
                cp.check()
                time.sleep(1.0)  # poll: notice a crashed component
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 0
    except ProcessDied as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m glance_operator.testing")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start a control plane and block until Ctrl-C")
    up.add_argument("--dir", type=Path, default=None, help="state directory (default: a temp dir)")
    up.add_argument("--nodes", type=int, default=3, help="number of kwok nodes")
    up.add_argument("--no-build", action="store_true", help="fail instead of building missing binaries")
    up.add_argument(
        "--webhook-port", type=int, default=0, help="register our admission webhooks for a server on this port"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    if args.command == "up":
        return _up(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())

"""Command line of the dependency player (deps.py).

    python -m glance_operator.testing.deps --kubeconfig FILE [-n NAMESPACE ...] [--hold KIND[/NAME] ...]

Runs until SIGINT/SIGTERM; logs one JSON line per action on stderr. `add_arguments` and `run` are
meant for wiring the same options into another CLI (e.g. `glance-operator dev deps`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from lightkube import AsyncClient, KubeConfig

from glance_operator.testing.deps import FIELD_MANAGER, DependencyPlayer, parse_hold
from glance_operator.testing.deps_status import HOLDABLE


def _hold(value: str) -> str:
    try:
        parse_hold(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", type=Path, required=True, help="kubeconfig of the cluster to play in")
    parser.add_argument(
        "-n",
        "--namespace",
        dest="namespaces",
        action="append",
        default=None,
        metavar="NAMESPACE",
        help="namespace to watch (repeatable; default: the kubeconfig context's namespace)",
    )
    parser.add_argument(
        "--hold",
        dest="holds",
        action="append",
        default=[],
        type=_hold,
        metavar="KIND[/NAME]",
        help="keep a dependency not ready (repeatable); KIND: " + ", ".join(sorted(HOLDABLE.values())),
    )
    parser.add_argument("--context", default=None, help="kubeconfig context (default: the current one)")
    parser.add_argument(
        "--no-keystone", action="store_true", help="do not create a KeystoneAPI `keystone` where none exists"
    )
    parser.add_argument(
        "--no-memcached", action="store_true", help="do not create a Memcached `memcached` where missing"
    )
    parser.add_argument(
        "--database-tls", action="store_true", help="report tlsSupport on databases without a Galera CR"
    )
    parser.add_argument(
        "--quorum-queues", action="store_true", help="quorum queues for TransportURLs without a RabbitMq CR"
    )
    parser.add_argument("--keystone-secret", default="osp-secret", help="spec.secret of the created KeystoneAPI")
    parser.add_argument(
        "--watch-all", action="store_true", help="one cluster-wide watch per kind (for many namespaces)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m glance_operator.testing.deps",
        description="Play the mariadb, keystone and infra operators for the glance operator.",
    )
    add_arguments(parser)
    return parser


async def run(args: argparse.Namespace) -> int:
    config = KubeConfig.from_file(str(args.kubeconfig))
    client = AsyncClient(config=config.get(context_name=args.context), field_manager=FIELD_MANAGER)
    namespaces = args.namespaces or [client.namespace or "default"]
    player = DependencyPlayer(
        client,
        namespaces,
        hold=args.holds,
        ensure_keystone=not args.no_keystone,
        ensure_memcached=not args.no_memcached,
        database_tls=args.database_tls,
        quorum_queues=args.quorum_queues,
        keystone_secret=args.keystone_secret,
        watch_all=args.watch_all,
    )
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(player.run())
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        pass
    finally:
        await client.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130
    except TimeoutError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

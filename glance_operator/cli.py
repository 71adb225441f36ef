"""`glance-operator` command line."""

from __future__ import annotations

import argparse
import pathlib
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import yaml

from .api.admission import admit
from .api.defaults import Defaults
from .api.schema import CRD_FILES, crd

if TYPE_CHECKING:
    from .runtime.manager import Options

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class _Dumper(yaml.SafeDumper):
    """Block-style YAML with multi-line strings (custom configs) kept readable."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_yaml(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)


def crd_documents() -> dict[str, str]:
    """File name -> YAML text of each generated CRD."""
    return {CRD_FILES[kind]: "---\n" + dump_yaml(crd(kind)) for kind in ("Glance", "GlanceAPI")}


def cmd_crds(args: argparse.Namespace) -> int:
    docs = crd_documents()
    if args.output:
        out = pathlib.Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        for name, text in docs.items():
            (out / name).write_text(text)
            print(f"wrote {out / name}")
    else:
        sys.stdout.write("".join(docs.values()))
    return EXIT_OK


def _read(source: str) -> tuple[str, str]:
    if source == "-":
        return "<stdin>", sys.stdin.read()
    return source, pathlib.Path(source).read_text()


def _documents(label: str, text: str) -> Iterator[tuple[str, Any]]:
    for i, doc in enumerate(yaml.safe_load_all(text)):
        if doc is not None:
            yield f"{label}#{i + 1}", doc


def _foreign(doc: Any) -> bool:
    """A well-formed object of another API group and kind, e.g. a Secret in a sample file."""
    if not isinstance(doc, dict) or doc.get("kind") in ("Glance", "GlanceAPI"):
        return False
    api_version = doc.get("apiVersion")
    return isinstance(api_version, str) and bool(doc.get("kind")) and not api_version.startswith("glance.")


def cmd_validate(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    defaults = Defaults.from_env()
    status = EXIT_OK
    accepted: list[dict[str, Any]] = []
    for source in args.filename:
        try:
            label, text = _read(source)
            docs = list(_documents(label, text))
        except OSError as exc:
            err.write(f"{source}: cannot read: {exc.strerror or exc}\n")
            return EXIT_USAGE
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            err.write(f"{source}{where}: invalid YAML: {problem}\n")
            return EXIT_INVALID
        if not docs:
            # an empty file (or only `---`/comments) is almost always the wrong file: say so, never a silent 0
            err.write(f"no objects found in {label}\n")
            status = EXIT_INVALID
            continue
        for label, doc in docs:
            if _foreign(doc):
                # supporting objects shipped next to a Glance (Secrets, ConfigMaps): not ours to judge
                if not args.quiet:
                    err.write(f"{label}: skipped {doc.get('apiVersion')}/{doc.get('kind')}: not a Glance object\n")
                continue
            result = admit(doc, defaults, namespace=args.namespace)
            who = f"{result.kind or 'object'} {result.name!r}" if result.name else result.kind or "object"
            for warning in result.warnings:
                err.write(f"{label}: {who}: warning: {warning}\n")
            if result.allowed and result.object is not None:
                accepted.append(result.object)
            else:
                status = EXIT_INVALID
                err.write(f"{label}: {who} is invalid:\n")
                for e in result.errors:
                    err.write(f"  {e}\n")
    if status == EXIT_OK and not args.quiet:
        out.write("".join("---\n" + dump_yaml(obj) for obj in accepted))
    return status


def cmd_doctor(args: argparse.Namespace) -> int:
    """Exit 0 when everything is Ready, 1 when a cause was reported, 2 when the cluster cannot be read."""
    import json

    import httpx
    from lightkube import ApiError, ConfigError

    from .doctor.diagnose import diagnose, format_text
    from .doctor.snapshot import make_client, read_snapshot

    try:
        snap = read_snapshot(make_client(args.kubeconfig), args.namespace)
    except (ApiError, ConfigError, httpx.HTTPError, OSError) as exc:
        sys.stderr.write(f"cannot read the cluster: {exc}\n")
        return EXIT_USAGE
    reports = diagnose(snap, args.name)
    if args.output == "json":
        sys.stdout.write(json.dumps([r.as_dict() for r in reports], indent=2) + "\n")
    else:
        sys.stdout.write(format_text(reports))
    return EXIT_OK if all(r.ready for r in reports) else EXIT_INVALID


def cmd_render_diff(args: argparse.Namespace) -> int:
    """Exit 0 when nothing would change, 1 when the operator would write, 2 on errors."""
    import httpx
    from lightkube import ApiError, ConfigError

    from .doctor.snapshot import make_client
    from .render.diff import format_changes, plan

    try:
        changes = asyncio_run(
            plan(
                make_client(args.kubeconfig), args.namespace or "openstack", args.name or "glance", Defaults.from_env()
            )
        )
    except LookupError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_USAGE
    except (ApiError, ConfigError, httpx.HTTPError, OSError) as exc:
        sys.stderr.write(f"cannot read the cluster: {exc}\n")
        return EXIT_USAGE
    sys.stdout.write(format_changes(changes))
    return EXIT_INVALID if changes else EXIT_OK


def asyncio_run(coro: Any) -> Any:
    import asyncio

    return asyncio.run(coro)


def cmd_render(args: argparse.Namespace) -> int:
    if args.diff:
        return cmd_render_diff(args)
    if not args.filename:
        sys.stderr.write("render: -f/--filename is required (or --diff NAME against the live cluster)\n")
        return EXIT_USAGE
    from pydantic import ValidationError

    from .render.glanceapi import RenderError
    from .render.offline import FactsError, render_object, reviewable

    defaults = Defaults.from_env()
    try:
        label, text = _read(args.filename)
        docs = list(_documents(label, text))
        raw_facts = None
        if args.facts:
            raw_facts = yaml.safe_load(pathlib.Path(args.facts).read_text())
    except OSError as exc:
        sys.stderr.write(f"cannot read: {exc}\n")
        return EXIT_USAGE
    except yaml.YAMLError as exc:
        sys.stderr.write(f"invalid YAML: {str(exc).splitlines()[0]}\n")
        return EXIT_INVALID
    glances = [(lbl, d) for lbl, d in docs if isinstance(d, dict) and d.get("kind") in ("Glance", "GlanceAPI")]
    if not glances:
        sys.stderr.write(f"{args.filename}: no Glance or GlanceAPI object found\n")
        return EXIT_INVALID
    out_docs: list[tuple[str, dict[str, Any]]] = []
    for lbl, doc in glances:
        result = admit(doc, defaults, namespace=args.namespace)
        if not result.allowed or result.object is None:
            sys.stderr.write(f"{lbl}: {result.kind} {result.name!r} is invalid:\n")
            sys.stderr.write("".join(f"  {e}\n" for e in result.errors))
            return EXIT_INVALID
        try:
            objects, warnings, facts = render_object(result.object, raw_facts, args.namespace, [d for _, d in docs])
        except (FactsError, RenderError, ValidationError) as exc:
            sys.stderr.write(f"{lbl}: cannot render: {exc}\n")
            return EXIT_INVALID
        for w in warnings:
            sys.stderr.write(f"{lbl}: warning: {w}\n")
        for obj in objects:
            shown = reviewable(obj, facts.secrets(), args.show_secrets)
            name = f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
            out_docs.append((name, shown))
    if args.output:
        out = pathlib.Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        for i, (name, obj) in enumerate(out_docs):
            (out / f"{i:02d}-{name}").write_text(dump_yaml(obj))
        sys.stderr.write(f"wrote {len(out_docs)} objects to {out}\n")
    else:
        sys.stdout.write("".join("---\n" + dump_yaml(obj) for _, obj in out_docs))
    return EXIT_OK


def _run_async(coro: Any) -> int:
    import asyncio

    result = asyncio.run(coro)
    return int(result or 0)


def webhooks_enabled(environ: Mapping[str, str]) -> bool:
    """Upstream's `os.Getenv("ENABLE_WEBHOOKS") != "false"` (glance-operator cmd/main.go), exactly.

    Spec §3.1 only says "unless env ENABLE_WEBHOOKS=false"; upstream compares the exact string, so
    unset, empty, "true", "0" and even "False"/"FALSE" leave the webhooks on. Several other openstack
    operators lower-case the value first; glance-operator does not, and neither do we.
    """
    return environ.get("ENABLE_WEBHOOKS") != "false"


def run_options(args: argparse.Namespace, environ: Mapping[str, str]) -> Options:
    """The manager's options from `glance-operator run` flags and the environment upstream reads."""
    from .runtime.manager import Options

    return Options(
        kubeconfig=args.kubeconfig,
        namespace=args.namespace or environ.get("WATCH_NAMESPACE") or None,
        leader_elect=args.leader_elect,
        leader_election_namespace=args.leader_election_namespace,
        lease_duration=float(environ.get("LEASE_DURATION", args.lease_duration)),
        renew_deadline=float(environ.get("RENEW_DEADLINE", args.renew_deadline)),
        retry_period=float(environ.get("RETRY_PERIOD", args.retry_period)),
        health_probe_bind_address=args.health_probe_bind_address,
        metrics_bind_address=args.metrics_bind_address,
        workers=args.workers,
        enable_webhooks=webhooks_enabled(environ),
        webhook_host=args.webhook_host,
        webhook_port=args.webhook_port,
        webhook_cert_dir=args.webhook_cert_dir,
    )


def cmd_run(args: argparse.Namespace) -> int:
    import asyncio
    import os
    import signal

    from .runtime import logs
    from .runtime.manager import Manager

    logs.setup(args.log_level, args.log_format)
    options = run_options(args, os.environ)

    async def main() -> int:
        manager = Manager(options)
        manager.add_default_controllers(Defaults.from_env())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, manager.stop)
        await manager.run()
        return 0

    return asyncio.run(main())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glance-operator", description="Kubernetes operator for OpenStack Glance.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("crds", help="print or write the CustomResourceDefinitions")
    p.add_argument("-o", "--output", metavar="DIR", help="write one file per CRD into DIR")
    p.set_defaults(func=cmd_crds)

    p = sub.add_parser(
        "validate",
        help="default and validate Glance/GlanceAPI objects offline, as the apiserver and webhooks would",
    )
    p.add_argument("-f", "--filename", action="append", required=True, help="YAML file, or - for stdin")
    p.add_argument("-n", "--namespace", default="", help="namespace assumed for objects without one")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("render", help="print every object the operator would create for a Glance, offline")
    p.add_argument("-f", "--filename", help="Glance YAML file, or - for stdin (required without --diff)")
    p.add_argument("--facts", help="YAML with the cluster facts (database, keystone, ...); example facts if omitted")
    p.add_argument("-o", "--output", metavar="DIR", help="write one file per object into DIR")
    p.add_argument("-n", "--namespace", default="", help="namespace for objects without one (default openstack)")
    p.add_argument("--show-secrets", action="store_true", help="do not redact secret values")
    p.add_argument("--diff", action="store_true", help="diff what the operator would write against the live cluster")
    p.add_argument("name", nargs="?", help="with --diff: the Glance to compare (default glance)")
    p.add_argument("--kubeconfig", help="with --diff: kubeconfig file (default: $KUBECONFIG or in-cluster)")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("doctor", help="explain why a Glance or GlanceAPI is not Ready, with a suggested fix")
    p.add_argument("name", nargs="?", help="only this Glance (and its GlanceAPIs)")
    p.add_argument("-n", "--namespace", default="openstack", help="namespace (default openstack)")
    p.add_argument("-o", "--output", choices=["text", "json"], default="text")
    p.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or in-cluster)")
    p.set_defaults(func=cmd_doctor)

    dev = sub.add_parser("dev", help="development helpers").add_subparsers(dest="dev_command", required=True)
    p = dev.add_parser("deps", help="play the mariadb, keystone and infra operators in a test cluster")
    from .testing import deps_cli

    deps_cli.add_arguments(p)
    p.set_defaults(func=lambda a: _run_async(deps_cli.run(a)))

    p = sub.add_parser("run", help="run the operator (controllers, probes, metrics)")
    p.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster or $KUBECONFIG)")
    p.add_argument("--namespace", default="", help="watch only this namespace (or $WATCH_NAMESPACE)")
    p.add_argument("--leader-elect", action="store_true", help="elect a leader with a Lease before working")
    p.add_argument("--leader-election-namespace", default=None)
    p.add_argument("--lease-duration", type=float, default=15.0)
    p.add_argument("--renew-deadline", type=float, default=10.0)
    p.add_argument("--retry-period", type=float, default=2.0)
    p.add_argument("--health-probe-bind-address", default=":8081", help="/healthz and /readyz; 0 disables")
    p.add_argument("--metrics-bind-address", default="0", help="Prometheus /metrics, e.g. :8443; 0 disables")
    p.add_argument("--workers", type=int, default=2, help="concurrent reconciles per controller")
    # Host and port as controller-runtime's webhook.Options{Host, Port}. Not "--webhook-bind-address": upstream's
    # cmd/main.go has a flag of that name that is the *port* (an int, default 9443), so a host there would mislead.
    p.add_argument(
        "--webhook-host",
        default="",
        help="address the admission webhook server listens on, e.g. 127.0.0.1 (default: all interfaces, "
        "as a pod needs: the apiserver reaches it through the webhook Service)",
    )
    p.add_argument("--webhook-port", type=int, default=9443, help="admission webhook HTTPS port")
    p.add_argument(
        "--webhook-cert-dir",
        default="/tmp/k8s-webhook-server/serving-certs",
        help="directory with tls.crt and tls.key (reloaded on change); ENABLE_WEBHOOKS=false disables webhooks",
    )
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument("--log-format", default="json", choices=["json", "text"])
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    return code


if __name__ == "__main__":
    sys.exit(main())

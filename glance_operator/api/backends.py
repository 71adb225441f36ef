"""Which Glance stores a customServiceConfig enables (spec §3.4), shared by webhook and controllers.

Verdicts equal upstream's `GetEnabledBackends`/`IsFileBackend` for every input upstream handles,
because openstack-operator embeds those functions in its own webhook and the two levels must agree.
What we change (spec §9, defects 3 and 4):

* a bare `enabled_backends` line without `=`, or an entry without `<id>:<type>`, is reported as an
  error instead of crashing the webhook or the controller;
* `;` comment lines are skipped (oslo.config treats them as comments);
* a match outside `[DEFAULT]` still counts (as upstream) but yields a warning, since Glance reads
  `enabled_backends` only from `[DEFAULT]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backend:
    store_id: str
    store_type: str


@dataclass(frozen=True)
class EnabledBackends:
    entries: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # malformed text: reported as errors
    notes: tuple[str, ...] = field(default=())  # suspicious but accepted: reported as warnings

    def parsed(self) -> list[Backend]:
        out = []
        for entry in self.entries:
            store_id, sep, store_type = entry.partition(":")
            if sep:
                out.append(Backend(store_id.strip(), store_type.strip()))
        return out

    def types(self) -> set[str]:
        return {b.store_type for b in self.parsed()}


def enabled_backends(config: str) -> EnabledBackends:
    section = "DEFAULT"
    problems: list[str] = []
    notes: list[str] = []
    for lineno, raw in enumerate(config.split("\n"), start=1):
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        key, sep, value = line.partition("=")
        token = key.replace(" ", "")
        if token == "" or token.startswith(("#", ";")):
            continue
        if token != "enabled_backends":
            continue
        if not sep:
            problems.append(
                f"line {lineno}: `enabled_backends` has no value; write enabled_backends = <id>:<type>[,...]"
            )
            return EnabledBackends((), tuple(problems), tuple(notes))
        entries = tuple(e.strip() for e in value.strip().split(","))
        if section != "DEFAULT":
            notes.append(f"line {lineno}: enabled_backends is set in [{section}], but Glance reads it from [DEFAULT]")
        for entry in entries:
            store_id, colon, store_type = entry.partition(":")
            if not colon or not store_id.strip() or not store_type.strip():
                problems.append(
                    f"line {lineno}: enabled_backends entry {entry!r} must have the form "
                    "<store id>:<store type> (e.g. default_backend:rbd)"
                )
        return EnabledBackends(entries, tuple(problems), tuple(notes))
    return EnabledBackends()


def is_file_backend(config: str, top_level: bool) -> bool:
    """Upstream `IsFileBackend`: no list inherits `top_level`; exactly one `<id>:file` entry is file."""
    entries = enabled_backends(config).entries
    if not entries:
        return top_level
    return len(entries) == 1 and entries[0].partition(":")[2] == "file"

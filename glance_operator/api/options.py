"""customServiceConfig checked against Glance's own option catalogue (beyond upstream, which checks nothing).

The text is parsed as oslo.config parses config files, and every section and option is looked up in
`data/glance-options.json`, generated from the pinned glance/glance_store option lists by
`hack/gen_option_catalogue.py`. Unknown names (oslo would silently ignore them), values oslo would
refuse at start-up, and the few options the operator manages itself are errors; deprecated options
are warnings. Values holding template actions (`{{ .ServicePassword }}`) are rendered later by the
controller and are not type-checked.

`customServiceConfigSecrets` content is not part of any admission review, so the GlanceAPI controller
runs `check_config` on every value of every listed Secret (with the store ids of the API's own
`enabled_backends`) before it renders anything; problems set ServiceConfigReady False, naming Secret,
key, line, section and option, and the config Secret and StatefulSet are not written or updated until
they are fixed.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from .backends import enabled_backends
from .errors import FieldError, Path, invalid, path

# Options the operator renders itself and a user override would break (docs/option-checks.md).
MANAGED: dict[tuple[str, str], str] = {
    ("DEFAULT", "log_file"): "managed by the operator: the glance-log container tails /var/log/glance/<api>.log",
    ("database", "connection"): (
        "managed by the operator from the MariaDBAccount and its Secret (user, password, host, TLS via my.cnf)"
    ),
}
# glance-api always configures these reserved stores as file stores (glance_store.multi_backend).
RESERVED_FILE_STORES = ("os_glance_staging_store", "os_glance_tasks_store")
# The rendered 00-config.conf enables this store when the user's config enables none.
RENDERED_STORES = {"default_backend": "file"}
# Import plugins without options of their own: an empty section for them is harmless.
OPTIONLESS_SECTIONS = ("image_decompression",)
BOOLEAN_WORDS = {"true", "false", "yes", "no", "1", "0", "on", "off"}


@cache
def catalogue() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(files("glance_operator.api").joinpath("data/glance-options.json").read_text())
    return data


@dataclass
class Entry:
    line: int
    section: str
    name: str
    value: str


@dataclass
class Parsed:
    entries: list[Entry] = field(default_factory=list)
    sections: dict[str, int] = field(default_factory=dict)  # section -> first line
    error: str = ""


def parse_ini(text: str, show_values: bool = True) -> Parsed:
    """oslo.config's iniparser: `[section]`, `key = value` or `key: value`, indented continuation lines,
    `#`/`;` comment lines; keys and section names (except DEFAULT) are case-folded, dashes read as `_`.
    Without `show_values`, error messages do not quote the offending line (Secret content)."""
    out = Parsed()
    section = ""
    last: Entry | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            last = None if not stripped else last
            continue
        if line[0].isspace() and last is not None:
            last.value = (last.value + "\n" + stripped).strip()  # continuation of the previous value
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]") or not stripped[1:-1].strip():
                out.error = f"line {lineno}: invalid section header" + (f" {stripped!r}" if show_values else "")
                return out
            name = stripped[1:-1].strip()
            section = name if name == "DEFAULT" else name.lower()
            out.sections.setdefault(section, lineno)
            last = None
            continue
        seps = [i for i in (stripped.find("="), stripped.find(":")) if i > 0]
        if not seps:
            out.error = f"line {lineno}: expected `option = value`" + (f", got {stripped!r}" if show_values else "")
            return out
        if not section:
            out.error = f"line {lineno}: option {stripped[: min(seps)].strip()!r} appears before any [section]"
            return out
        key, value = stripped[: min(seps)].strip(), stripped[min(seps) + 1 :].strip()
        if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        last = Entry(lineno, section, key.replace("-", "_").lower(), value)
        out.entries.append(last)
    return out


@dataclass
class Verdict:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_config(text: str, store_ids: dict[str, str] | None = None, *, show_values: bool = True) -> Verdict:
    """Problems of one config text; `store_ids` are store id -> type enabled elsewhere (top-level config).

    Without `show_values` no message quotes a value or a line of the text: for Secret content, whose
    messages end up in a status condition that more people can read than the Secret.
    """
    verdict = Verdict()
    if not text.strip():
        return verdict
    parsed = parse_ini(text, show_values)
    if parsed.error:
        verdict.errors.append(f"cannot parse as an INI file: {parsed.error}")
        return verdict
    sections = _known_sections(text, store_ids)
    for section, lineno in parsed.sections.items():
        if section not in sections:
            verdict.errors.append(f"line {lineno}: unknown section [{section}]{_suggest(section, sections, '[', ']')}")
    for entry in parsed.entries:
        options = sections.get(entry.section)
        if options is None:
            continue  # reported with its section
        if options == "unknown-store":
            continue  # a store type glance_store does not ship: its options are unknown to us
        where = f"line {entry.line}: [{entry.section}] {entry.name}"
        reason = MANAGED.get((entry.section, entry.name))
        if reason:
            verdict.errors.append(f"{where}: cannot be set in customServiceConfig: {reason}")
            continue
        spec = options.get(entry.name)
        if spec is None:
            verdict.errors.append(f"{where}: unknown option{_suggest(entry.name, options, '', '')}")
            continue
        if "deprecated_alias_of" in spec:
            verdict.warnings.append(f"{where} is deprecated, use {spec['deprecated_alias_of']}")
        if spec.get("deprecated_for_removal"):
            verdict.warnings.append(f"{where} is deprecated for removal")
        if "{{" in entry.value or entry.name == "enabled_backends":
            continue  # rendered later by the controller; enabled_backends has its own check
        problem = _value_problem(entry.value, spec, show_values)
        if problem:
            verdict.errors.append(f"{where}: {problem}")
    return verdict


def _known_sections(text: str, store_ids: dict[str, str] | None) -> dict[str, Any]:
    cat = catalogue()
    sections: dict[str, Any] = dict(cat["sections"])
    sections.update({s: {} for s in OPTIONLESS_SECTIONS})
    # glance_store's shared [backend_defaults] group takes the options of every store driver
    sections["backend_defaults"] = {k: v for opts in cat["store_types"].values() for k, v in opts.items()}
    stores = {**RENDERED_STORES, **(store_ids or {})}
    stores.update({b.store_id: b.store_type for b in enabled_backends(text).parsed()})
    stores.update({s: "file" for s in RESERVED_FILE_STORES})
    for store_id, store_type in stores.items():
        section = store_id.lower()
        options = cat["store_types"].get(store_type)
        if section in cat["sections"] and options is not None:
            sections[section] = {**cat["sections"][section], **options}  # e.g. a store id named "file"
        else:
            sections[section] = options if options is not None else "unknown-store"
    return sections


def _suggest(name: str, candidates: Any, left: str, right: str) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return f'; did you mean "{left}{close[0]}{right}"?' if close else ""


def _value_problem(value: str, spec: dict[str, Any], show_values: bool = True) -> str:
    kind = spec["type"]
    quoted, shown = (repr(value), value) if show_values else ("the value", "the value")
    number: float | None = None
    if kind in ("int", "port"):
        try:
            number = int(value)
        except ValueError:
            return f"{quoted} is not an integer"
        if kind == "port" and not 0 <= number <= 65535:
            return f"{shown} is not a port number (0-65535)"
    elif kind == "float":
        try:
            number = float(value)
        except ValueError:
            return f"{quoted} is not a number"
    elif kind == "bool" and value.lower() not in BOOLEAN_WORDS:
        return f"{quoted} is not a boolean (true/false, yes/no, on/off, 1/0)"
    choices = spec.get("choices")
    if choices and value not in choices:
        hint = _suggest(value, choices, "", "") if show_values else ""
        return f"{quoted} is not one of {', '.join(choices)}{hint}"
    if number is not None:
        if "min" in spec and number < spec["min"]:
            return f"{shown} is less than the minimum {spec['min']}"
        if "max" in spec and number > spec["max"]:
            return f"{shown} is greater than the maximum {spec['max']}"
    return ""


def _field_errors(p: Path, verdict: Verdict) -> tuple[list[FieldError], list[str]]:
    return [invalid(p, "customServiceConfig", e) for e in verdict.errors], [f"{p}: {w}" for w in verdict.warnings]


def check_custom_configs(kind: str, obj: dict[str, Any]) -> tuple[list[FieldError], list[str]]:
    """Catalogue checks of every customServiceConfig of a (defaulted) Glance or GlanceAPI."""
    spec = obj.get("spec") or {}
    top = spec.get("customServiceConfig") or ""
    if kind != "Glance":
        return _field_errors(path("spec", "customServiceConfig"), check_config(top))
    errors, warnings = _field_errors(path("spec", "customServiceConfig"), check_config(top))
    top_stores = {b.store_id: b.store_type for b in enabled_backends(top).parsed()}
    for key, api in sorted((spec.get("glanceAPIs") or {}).items()):
        p = path("spec", "glanceAPIs").key(key).child("customServiceConfig")
        e, w = _field_errors(p, check_config((api or {}).get("customServiceConfig") or "", top_stores))
        errors += e
        warnings += w
    return errors, warnings

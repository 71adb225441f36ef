"""Expansion of Go ``text/template`` actions in users' custom config (spec 6.1, must-get-right 14).

Upstream renders ``01/02/03-config.conf`` and ``my.cnf`` with ``text/template`` (``missingkey=error``) and the
operator's parameter map, and stores the raw text when rendering fails. Shipped control planes rely on
``{{ .ServicePassword }}``, ``{{ .KeystoneInternalURL }}``, ``{{ .Region }}`` and friends, so the same names
must keep working.

Supported subset (everything the documented samples use):

* ``{{ .Key }}`` / ``{{.Key}}`` (any whitespace inside the delimiters, newlines included);
* trim markers ``{{- `` and `` -}}`` (a dash plus one whitespace character, as in Go);
* comments ``{{/* ... */}}``, also with trim markers.

Anything else (``if``/``range``/``with``, pipelines, function calls, ``.A.B``, variables, literals, a lone
``{{``) is treated like an upstream parse failure: the whole text is returned unchanged and
:attr:`TemplateExpansion.error` says why.

Defect 19 fix: upstream leaves the *whole* file raw when one key is missing (e.g. ``{{ .Region }}`` before
the KeystoneEndpoint has IDs), which silently drops every other substitution, passwords included. Here known
keys are expanded and only the actions naming unknown keys are kept verbatim (their trim markers are not
applied either, so the surrounding text is untouched); the unknown names are returned in
:attr:`TemplateExpansion.missing_keys` so the caller can surface a warning or condition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["TemplateExpansion", "TemplateValue", "expand", "format_value"]

TemplateValue = str | int | bool

_LEFT, _RIGHT = "{{", "}}"
_SPACE = " \t\r\n"  # Go text/template isSpace
_FIELD = re.compile(r"\.([^\W\d]\w*)")  # Go identifier: letter or underscore, then letters/digits


@dataclass(frozen=True)
class TemplateExpansion:
    """Result of :func:`expand`."""

    text: str
    # Keys referenced as {{ .Key }} but absent from the parameters, sorted and unique; their actions are
    # left in the text verbatim.
    missing_keys: tuple[str, ...] = ()
    # Set when the text uses syntax outside the supported subset or does not parse; ``text`` is then the
    # input unchanged (upstream behaviour on a parse failure).
    error: str | None = None

    @property
    def complete(self) -> bool:
        """True when every action was expanded."""
        return self.error is None and not self.missing_keys


def format_value(value: TemplateValue) -> str:
    """Print a parameter the way Go's ``fmt.Sprint`` does for the types we pass (bools are lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Unsupported(Exception):
    pass


def expand(text: str, params: Mapping[str, TemplateValue]) -> TemplateExpansion:
    """Expand ``{{ .Key }}`` actions in ``text`` with ``params`` (see module docstring for the rules)."""
    if _LEFT not in text:
        return TemplateExpansion(text)
    try:
        out, missing = _expand(text, params)
    except _Unsupported as exc:
        return TemplateExpansion(text, error=str(exc))
    return TemplateExpansion(out, tuple(sorted(missing)))


def _expand(text: str, params: Mapping[str, TemplateValue]) -> tuple[str, set[str]]:
    pieces: list[str] = []
    missing: set[str] = set()
    pos = 0
    trim_next = False  # the previous action ended with " -}}" and was applied
    while True:
        start = text.find(_LEFT, pos)
        literal = text[pos:] if start < 0 else text[pos:start]
        if trim_next:
            literal = literal.lstrip(_SPACE)
        if start < 0:
            pieces.append(literal)
            break
        inner_start = start + len(_LEFT)
        trim_left = _has_left_trim(text, inner_start)
        body_start = inner_start + 2 if trim_left else inner_start
        if text.startswith("/*", body_start):
            end, trim_right = _comment_end(text, body_start)
            key = None
        else:
            end = text.find(_RIGHT, body_start)
            if end < 0:
                raise _Unsupported(f"unclosed action at offset {start}")
            body = text[body_start:end]
            trim_right = len(body) >= 2 and body[-1] == "-" and body[-2] in _SPACE
            if trim_right:
                body = body[:-2]
            key = _field_name(body, text[start : end + len(_RIGHT)])
        action_end = end + len(_RIGHT)
        if key is not None and key not in params:
            # Keep the action verbatim and do not apply its trim markers (defect 19 fix).
            missing.add(key)
            pieces.append(literal)
            pieces.append(text[start:action_end])
            trim_next = False
        else:
            pieces.append(literal.rstrip(_SPACE) if trim_left else literal)
            if key is not None:
                pieces.append(format_value(params[key]))
            trim_next = trim_right
        pos = action_end
    return "".join(pieces), missing


def _has_left_trim(text: str, pos: int) -> bool:
    return text.startswith("-", pos) and pos + 1 < len(text) and text[pos + 1] in _SPACE


def _comment_end(text: str, body_start: int) -> tuple[int, bool]:
    """Return (index of the closing ``}}``, right-trim flag) for a comment starting at ``body_start``."""
    close = text.find("*/", body_start + 2)
    if close < 0:
        raise _Unsupported(f"unclosed comment at offset {body_start}")
    after = close + 2
    if text.startswith(_RIGHT, after):
        return after, False
    if after + 1 < len(text) and text[after] in _SPACE and text.startswith("-" + _RIGHT, after + 1):
        return after + 2, True
    raise _Unsupported(f"comment ends before closing delimiter at offset {after}")


def _field_name(body: str, action: str) -> str:
    match = _FIELD.fullmatch(body.strip(_SPACE))
    if match is None:
        raise _Unsupported(f"unsupported template action {action!r}")
    return match.group(1)

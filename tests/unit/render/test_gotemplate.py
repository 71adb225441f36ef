"""Custom-config template expansion (spec 6.1, defect 19)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glance_operator.render.gotemplate import TemplateExpansion, TemplateValue, expand, format_value

PARAMS: dict[str, TemplateValue] = {
    "KeystoneInternalURL": "https://keystone-internal.openstack.svc:5000",
    "ServicePassword": "s3cr3t",
    "ServiceUser": "glance",
    "QuotaEnabled": False,
    "CacheMaxSize": 10737418240,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no actions\n", "no actions\n"),
        ("a = {{ .ServiceUser }}", "a = glance"),
        ("a = {{.ServiceUser}}", "a = glance"),
        ("a = {{   .ServiceUser\t}}", "a = glance"),
        ("a = {{\n.ServiceUser\n}}", "a = glance"),
        ("{{ .ServiceUser }}:{{ .ServicePassword }}", "glance:s3cr3t"),
        ("q = {{ .QuotaEnabled }}", "q = false"),  # Go prints bools lower case
        ("size = {{ .CacheMaxSize }}", "size = 10737418240"),
        ("a =   {{- .ServiceUser }}", "a =glance"),
        ("a = {{ .ServiceUser -}}  \n\t b", "a = glanceb"),
        ("[x]\n\n{{- .ServiceUser -}}\n\n[y]", "[x]glance[y]"),
        ("a{{/* comment */}}b", "ab"),
        ("a\n{{- /* multi\nline */ -}}\nb", "ab"),
        ("a = }} b", "a = }} b"),  # a lone right delimiter is text
        ("", ""),
    ],
)
def test_supported_subset(text: str, expected: str) -> None:
    result = expand(text, PARAMS)
    assert result == TemplateExpansion(expected)
    assert result.complete


def test_swift_sample_before_region_known_expands_everything_else() -> None:
    # Defect 19: upstream leaves the whole file raw, password included, while Region is unknown.
    text = (
        "[default_backend]\n"
        "swift_store_auth_address = {{ .KeystoneInternalURL }}\n"
        "swift_store_key = {{ .ServicePassword }}\n"
        "swift_store_region = {{ .Region }}\n"
    )
    result = expand(text, PARAMS)
    assert result.text == (
        "[default_backend]\n"
        "swift_store_auth_address = https://keystone-internal.openstack.svc:5000\n"
        "swift_store_key = s3cr3t\n"
        "swift_store_region = {{ .Region }}\n"
    )
    assert result.missing_keys == ("Region",)
    assert result.error is None
    assert not result.complete


def test_missing_keys_are_sorted_unique_and_keep_their_trim_markers() -> None:
    text = "a = \n{{- .Zed -}}\n b={{ .Alpha }} c={{.Zed}} d={{ .ServiceUser -}}  e"
    result = expand(text, PARAMS)
    assert result.text == "a = \n{{- .Zed -}}\n b={{ .Alpha }} c={{.Zed}} d=glancee"
    assert result.missing_keys == ("Alpha", "Zed")


@pytest.mark.parametrize(
    "text",
    [
        "{{ if .Region }}region = {{ .Region }}{{ end }}",
        "{{ .ServiceUser | lower }}",
        "{{ lower .ServiceUser }}",
        '{{ index . "ServiceUser" }}',
        "{{ .ServiceUser.Name }}",
        "{{ . }}",
        "{{ $x := .ServiceUser }}",
        "{{ 3 }}",
        "{{-3}}",
        "{{-.ServiceUser}}",  # no space after the dash: not a trim marker in Go
        "{{ .ServiceUser-}}",
        "{{}}",
        "{{ .ServiceUser",  # unclosed action
        "{{/* unclosed comment }}",
        "{{/* comment */ }}",  # comment must end right at the delimiter
        "{{ /* not a comment */ }}",
        'regex = "^a{{2}}$"',
    ],
)
def test_unsupported_or_invalid_leaves_whole_text_raw(text: str) -> None:
    # Same as upstream on a parse failure: the file is stored unchanged, even the parts that would expand.
    full = "user = {{ .ServiceUser }}\n" + text
    result = expand(full, PARAMS)
    assert result.text == full
    assert result.error
    assert result.missing_keys == ()
    assert not result.complete


def test_format_value() -> None:
    assert [format_value(v) for v in (True, False, 0, "x")] == ["true", "false", "0", "x"]


_PLAIN = st.text(alphabet=st.characters(exclude_characters="{}"))


@given(_PLAIN)
def test_text_without_actions_is_unchanged(text: str) -> None:
    assert expand(text, PARAMS) == TemplateExpansion(text)


@given(_PLAIN, _PLAIN, st.sampled_from(sorted(PARAMS)))
def test_expansion_is_plain_substitution_without_trim(before: str, after: str, key: str) -> None:
    result = expand(f"{before}{{{{ .{key} }}}}{after}", PARAMS)
    assert result.text == before + format_value(PARAMS[key]) + after

"""Backend detection, spec §3.4 (`GetEnabledBackends` / `IsFileBackend`) and defects 3 and 4 of §9."""

from __future__ import annotations

import pytest

from glance_operator.api.backends import enabled_backends, is_file_backend

# --- enabled_backends: the parsing rules of §3.4 ---------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param("", (), id="empty-config"),
        pytest.param("[DEFAULT]\ndebug=true", (), id="no-enabled_backends"),
        pytest.param("enabled_backends=default_backend:rbd", ("default_backend:rbd",), id="single-entry"),
        pytest.param("[DEFAULT]\nenabled_backends=default_backend:rbd", ("default_backend:rbd",), id="under-DEFAULT"),
        pytest.param(
            "enabled_backends = a:rbd , b:swift ,c:cinder",
            ("a:rbd", "b:swift", "c:cinder"),
            id="split-on-comma-and-trim-each-element",
        ),
        pytest.param("   enabled_backends=a:file   ", ("a:file",), id="line-is-trimmed"),
        pytest.param("enabled_backends=a:file\r", ("a:file",), id="crlf-line-end-trimmed"),
        # "remove all spaces from the left part"
        pytest.param("enabled _ backends=a:file", ("a:file",), id="spaces-in-key-removed"),
        pytest.param(" enabled_backends  =a:file", ("a:file",), id="spaces-around-key-removed"),
        # "skip blank and #-prefixed lines"
        pytest.param("\n\n   \nenabled_backends=a:file\n\n", ("a:file",), id="blank-lines-skipped"),
        pytest.param("# enabled_backends=a:file\nenabled_backends=b:rbd", ("b:rbd",), id="hash-comment-skipped"),
        pytest.param(
            "   #enabled_backends=a:file\nenabled_backends=b:rbd",
            ("b:rbd",),
            id="indented-hash-comment-skipped",
        ),
        # "on the first line whose key is exactly enabled_backends"
        pytest.param("enabled_backends=a:file\nenabled_backends=b:rbd", ("a:file",), id="first-match-wins"),
        pytest.param("enabled_backends_extra=x:file\nenabled_backends=b:rbd", ("b:rbd",), id="key-must-match-exactly"),
        pytest.param("Enabled_Backends=x:file", (), id="key-is-case-sensitive"),
        pytest.param("default_backend=a\nenabled_backends=a:rbd", ("a:rbd",), id="other-keys-ignored"),
        # "split once on =": the value keeps any further '='
        pytest.param("enabled_backends=a:rbd=x", ("a:rbd=x",), id="split-once-on-equals"),
        # "Section headers are ignored (a match in any section counts)"
        pytest.param("[glance_store]\nenabled_backends=a:file", ("a:file",), id="match-in-other-section-counts"),
        pytest.param(
            "[foo]\nenabled_backends=a:file\n[DEFAULT]\nenabled_backends=b:rbd",
            ("a:file",),
            id="section-blind-first-match",
        ),
        # "inline `# ...` text stays in the last element"
        pytest.param("enabled_backends=a:rbd # main store", ("a:rbd # main store",), id="inline-comment-kept"),
        pytest.param(
            "enabled_backends=a:rbd, b:file # CHANGE_ME",
            ("a:rbd", "b:file # CHANGE_ME"),
            id="inline-comment-in-last-element",
        ),
        # defect 4 fix (ours): `;` comment lines are skipped like `#` ones
        pytest.param("; enabled_backends=a:file\nenabled_backends=b:rbd", ("b:rbd",), id="defect4-semicolon-skipped"),
        pytest.param(";enabled_backends=a:file", (), id="defect4-semicolon-only"),
    ],
)
def test_enabled_backends_entries(config: str, expected: tuple[str, ...]) -> None:
    parsed = enabled_backends(config)
    assert parsed.entries == expected
    assert parsed.problems == ()


def test_enabled_backends_parsed_and_types() -> None:
    parsed = enabled_backends("enabled_backends=default_backend:rbd, s3store:s3")
    assert [(b.store_id, b.store_type) for b in parsed.parsed()] == [
        ("default_backend", "rbd"),
        ("s3store", "s3"),
    ]
    assert parsed.types() == {"rbd", "s3"}


@pytest.mark.parametrize(
    ("config", "section"),
    [
        pytest.param("[glance_store]\nenabled_backends=a:file", "glance_store", id="glance_store"),
        pytest.param("[DEFAULT]\n[foo]\nenabled_backends=a:rbd", "foo", id="after-DEFAULT"),
    ],
)
def test_enabled_backends_outside_default_is_a_note(config: str, section: str) -> None:
    # Still counted (upstream verdict), but reported as a warning (module docstring).
    parsed = enabled_backends(config)
    assert parsed.entries
    assert len(parsed.notes) == 1
    assert f"[{section}]" in parsed.notes[0]


@pytest.mark.parametrize(
    "config",
    [
        pytest.param("enabled_backends=a:rbd", id="no-section"),
        pytest.param("[DEFAULT]\nenabled_backends=a:rbd", id="DEFAULT"),
    ],
)
def test_enabled_backends_in_default_has_no_note(config: str) -> None:
    assert enabled_backends(config).notes == ()


# --- defect 3: malformed lists are reported instead of crashing -----------------------------------


@pytest.mark.parametrize(
    ("config", "entries", "mentions"),
    [
        pytest.param("enabled_backends", (), "line 1", id="bare-key-without-equals"),
        pytest.param("[DEFAULT]\n enabled_backends ", (), "line 2", id="bare-key-line-2"),
        pytest.param("enabled_backends=a:rbd,b", ("a:rbd", "b"), "'b'", id="entry-without-colon"),
        pytest.param("enabled_backends=a:rbd,", ("a:rbd", ""), "''", id="trailing-comma"),
        pytest.param("enabled_backends=", ("",), "''", id="empty-value"),
        pytest.param("enabled_backends=:rbd", (":rbd",), "':rbd'", id="empty-store-id"),
        pytest.param("enabled_backends=a:", ("a:",), "'a:'", id="empty-store-type"),
    ],
)
def test_enabled_backends_malformed_is_a_problem_defect3(config: str, entries: tuple[str, ...], mentions: str) -> None:
    parsed = enabled_backends(config)
    assert parsed.entries == entries
    assert len(parsed.problems) == 1
    assert mentions in parsed.problems[0]


def test_enabled_backends_bare_key_after_first_match_is_not_reached() -> None:
    # first match wins: a later malformed line is never looked at
    parsed = enabled_backends("enabled_backends=a:rbd\nenabled_backends")
    assert parsed.entries == ("a:rbd",)
    assert parsed.problems == ()


# --- IsFileBackend truth table -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "top_level", "expected"),
    [
        # "true if the list is empty and topLevel is true"
        pytest.param("", True, True, id="empty-inherits-true"),
        pytest.param("", False, False, id="empty-inherits-false"),
        pytest.param("[DEFAULT]\ndebug=true", True, True, id="no-list-inherits-true"),
        pytest.param("[DEFAULT]\ndebug=true", False, False, id="no-list-inherits-false"),
        pytest.param("# enabled_backends=a:rbd", True, True, id="commented-list-inherits"),
        # "or if the list has exactly one element of the form <id>:file"
        pytest.param("enabled_backends=default_backend:file", False, True, id="single-file"),
        pytest.param("enabled_backends=default_backend:file", True, True, id="single-file-top-true"),
        pytest.param("enabled_backends = nfs : file", True, False, id="spaces-inside-entry-not-file-form"),
        pytest.param("enabled_backends=default_backend:rbd", True, False, id="single-rbd"),
        pytest.param("enabled_backends=default_backend:swift", True, False, id="single-swift"),
        pytest.param("enabled_backends=default_backend:cinder", False, False, id="single-cinder"),
        # "Multistore (two or more entries) is never file, even if one is file"
        pytest.param("enabled_backends=a:file,b:rbd", True, False, id="multistore-with-file"),
        pytest.param("enabled_backends=a:file,b:file", True, False, id="multistore-all-file"),
        pytest.param("enabled_backends=a:rbd,b:swift", False, False, id="multistore-no-file"),
        # defect 4: inline comments stay in the element, so it is not the exact `:file` form
        pytest.param("enabled_backends=a:file # local", False, False, id="inline-comment-not-file"),
        # the webhook placeholder of §3.2 is not a file backend
        pytest.param("[DEFAULT]\nenabled_backends=backend1:type1 # CHANGE_ME", True, False, id="placeholder-not-file"),
        pytest.param("[glance_store]\nenabled_backends=a:file", False, True, id="section-blind"),
        pytest.param("; enabled_backends=a:rbd", True, True, id="defect4-semicolon-comment-inherits"),
        # defect 3: malformed bare key gives no list (and a problem), so the inherited verdict applies
        pytest.param("enabled_backends", True, True, id="defect3-bare-key-inherits"),
    ],
)
def test_is_file_backend(config: str, top_level: bool, expected: bool) -> None:
    assert is_file_backend(config, top_level) is expected

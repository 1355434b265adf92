"""Tests of the strict YAML reader (policy_engine.source)."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from policy_engine import source
from policy_engine.errors import PolicyError, PolicyLoadError, PolicySyntaxError, SourceLocation
from policy_engine.source import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    Position,
    ScalarSpan,
    SourceDocument,
    escape_pointer_token,
    parse_source,
    read_source,
    resolve_plain_scalar,
)

FILE = "policies/claim.yaml"


def load_errors(text: str) -> list[PolicyError]:
    with pytest.raises(PolicyLoadError) as info:
        parse_source(text, FILE)
    errors = list(info.value.errors)
    assert errors, "a PolicyLoadError must carry errors"
    assert all(isinstance(e, PolicySyntaxError) for e in errors)
    return errors


def only_error(text: str) -> PolicyError:
    errors = load_errors(text)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def where(error: PolicyError) -> tuple[str, int, int, str]:
    loc = error.location
    return (loc.file, loc.line, loc.column, loc.pointer)


# ------------------------------------------------------------------------------------ the resolver


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("true", True),
        ("false", False),
        ("null", None),
        ("~", None),
        ("", None),
        ("300", Decimal("300")),
        ("-1", Decimal("-1")),
        ("+7", Decimal("7")),
        ("007", Decimal("7")),
        ("300.00", Decimal("300.00")),
        ("-1.5", Decimal("-1.5")),
        ("+0.25", Decimal("0.25")),
        # Every other plain scalar is text.
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("True", "True"),
        ("FALSE", "FALSE"),
        ("Null", "Null"),
        ("NULL", "NULL"),
        ("16:00", "16:00"),
        ("2021-08-10", "2021-08-10"),
        ("2021-08-10T00:00:00+08:00", "2021-08-10T00:00:00+08:00"),
        ("1e5", "1e5"),
        ("1.5e3", "1.5e3"),
        (".5", ".5"),
        ("1.", "1."),
        ("0x1F", "0x1F"),
        ("0o17", "0o17"),
        ("1_000", "1_000"),
        (".inf", ".inf"),
        (".nan", ".nan"),
        ("1.2.3", "1.2.3"),
        ("- 1", "- 1"),
        ("金额", "金额"),
    ],
)
def test_resolve_plain_scalar(written: str, expected: Any) -> None:
    value = resolve_plain_scalar(written)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("true", True),
        ("false", False),
        ("null", None),
        ("~", None),
        ("", None),
        ("300", Decimal("300")),
        ("300.00", Decimal("300.00")),
        ("-1.5", Decimal("-1.5")),
        ("yes", "yes"),
        ("16:00", "16:00"),
        ("2021-08-10T00:00:00+08:00", "2021-08-10T00:00:00+08:00"),
        ("1e5", "1e5"),
        (".5", ".5"),
        ("0x1F", "0x1F"),
        ("True", "True"),
    ],
)
def test_plain_values_in_a_document(written: str, expected: Any) -> None:
    doc = parse_source(f"v: {written}\n", FILE)
    assert doc.data == {"v": expected}
    assert type(doc.data["v"]) is type(expected)


def test_version_keeps_its_digits() -> None:
    doc = parse_source("version: 2021.10\n", FILE)
    assert doc.data == {"version": Decimal("2021.10")}
    assert isinstance(doc.data["version"], Decimal)
    assert str(doc.data["version"]) == "2021.10"
    assert str(parse_source("version: 2021.08\n", FILE).data["version"]) == "2021.08"


@pytest.mark.parametrize(
    "text",
    [
        "v: '1'\n",
        'v: "1"\n',
        "v: 'true'\n",
        'v: "null"\n',
        "v: ''\n",
        "v: |-\n  1\n",
        "v: >-\n  true\n",
    ],
)
def test_quoted_and_block_scalars_are_always_text(text: str) -> None:
    value = parse_source(text, FILE).data["v"]
    assert isinstance(value, str)


def test_quoted_values_keep_their_text() -> None:
    doc = parse_source("a: '1'\nb: \"true\"\nc: ''\nd: |\n  x\n  y\n", FILE)
    assert doc.data == {"a": "1", "b": "true", "c": "", "d": "x\ny\n"}


def test_collections_become_lists_and_dicts_in_order() -> None:
    doc = parse_source("z: 1\na:\n  - x\n  - {k: v, j: [1, 2.50]}\nm: 2\n", FILE)
    assert doc.data == {"z": Decimal(1), "a": ["x", {"k": "v", "j": [Decimal(1), Decimal("2.50")]}], "m": 2}
    assert list(doc.data) == ["z", "a", "m"]
    assert list(doc.data["a"][1]) == ["k", "j"]
    assert type(doc.data) is dict
    assert type(doc.data["a"]) is list


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n", "---\n", "--- ~\n"])
def test_empty_file_is_none(text: str) -> None:
    doc = parse_source(text, FILE)
    assert doc.data is None
    assert doc.path == FILE


def test_quoted_keys_may_look_like_numbers() -> None:
    doc = parse_source("'1': a\n\"true\": b\n'~': c\n", FILE)
    assert doc.data == {"1": "a", "true": "b", "~": "c"}


# ------------------------------------------------------------------------------------- syntax errors


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("a: [1, 2\n", 2, 1, "end of the file"),
        ("a:\n  b: 1\n c: 2\n", 3, 2, "indent"),
        ("a:\n\tb: 1\n", 2, 1, "tab"),
        ("a: 1\n  b: 2\n", 2, 4, "':'"),
        ("rules:\n  - id: a\n    when: x\n  id: b\n", 4, 3, "indent"),
        ("a: 'open\n", 2, 1, "quoted"),
    ],
)
def test_yaml_syntax_errors(text: str, line: int, column: int, words: str) -> None:
    error = only_error(text)
    assert error.code == "yaml-syntax"
    assert where(error) == (FILE, line, column, "")
    assert error.message.startswith("YAML syntax error: ")
    assert words in error.message
    assert "<" not in error.message  # no PyYAML token names such as <stream end>


def test_control_character_is_a_located_syntax_error() -> None:
    error = only_error("a: 1\nb: x\x07y\n")
    assert error.code == "yaml-syntax"
    assert where(error) == (FILE, 2, 5, "")
    assert "U+0007" in error.message


def test_syntax_error_is_rendered_with_file_line_column() -> None:
    with pytest.raises(PolicyLoadError) as info:
        parse_source("a: [1, 2\n", FILE)
    assert str(info.value).startswith(f"{FILE}:2:1: YAML syntax error")


# ------------------------------------------------------------------------------------ strict errors


def test_duplicate_key_names_the_first_definition() -> None:
    error = only_error("z: 0\ny: 0\na: 1\nb: 2\na: 3\n")
    assert error.code == "duplicate-key"
    assert error.message == 'duplicate key "a"; first defined at line 3, column 1'
    assert where(error) == (FILE, 5, 1, "/a")


def test_nested_duplicate_key_and_first_value_is_kept_in_the_positions() -> None:
    error = only_error("rules:\n  - id: r1\n    when: x\n    id: r2\n")
    assert error.code == "duplicate-key"
    assert error.message == 'duplicate key "id"; first defined at line 2, column 5'
    assert where(error) == (FILE, 4, 5, "/rules/0/id")


def test_duplicate_keys_in_flow_mappings() -> None:
    error = only_error("a: {x: 1, y: 2, x: 3}\n")
    assert error.code == "duplicate-key"
    assert where(error) == (FILE, 1, 17, "/a/x")
    assert "first defined at line 1, column 5" in error.message


def test_anchor_and_alias() -> None:
    errors = load_errors("a: &x 1\nb: *x\n")
    assert [(e.code, *where(e)) for e in errors] == [
        ("anchor", FILE, 1, 4, "/a"),
        ("alias", FILE, 2, 4, "/b"),
    ]
    for error in errors:
        assert "anchors and aliases are not supported" in error.message
        assert "write the value out" in error.message
    assert '"&x"' in errors[0].message
    assert '"*x"' in errors[1].message


def test_anchor_on_a_collection() -> None:
    error = only_error("base:\n  defaults: &d\n    a: 1\n")
    assert error.code == "anchor"
    assert where(error) == (FILE, 2, 13, "/base/defaults")


def test_billion_laughs_fails_fast_with_anchor() -> None:
    lines = ['lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    started = time.perf_counter()
    errors = load_errors("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 2
    assert errors[0].code == "anchor"
    assert where(errors[0]) == (FILE, 1, 6, "/lol")
    assert {e.code for e in errors} == {"anchor", "alias"}
    assert len(errors) == 9 + 8 * 9


def test_merge_key() -> None:
    error = only_error("base: {a: 1}\nrule:\n  <<: {b: 1}\n  c: 2\n")
    assert error.code == "merge-key"
    assert where(error) == (FILE, 3, 3, "/rule")
    assert "<<" in error.message


def test_quoted_merge_key_is_just_a_key() -> None:
    assert parse_source("'<<': 1\n", FILE).data == {"<<": Decimal(1)}


@pytest.mark.parametrize(
    ("text", "tag", "column"),
    [
        ("a: !!str 1\n", "!!str", 4),
        ("a: !foo x\n", "!foo", 4),
        ("a: ! x\n", "!", 4),
        ('a: !!python/object/apply:os.system ["echo hi"]\n', "!!python/object/apply:os.system", 4),
        ("a: !!map\n  b: 1\n", "!!map", 4),
        ("a: [x, !!int '1']\n", "!!int", 8),
    ],
)
def test_explicit_tags_are_errors(text: str, tag: str, column: int) -> None:
    error = only_error(text)
    assert error.code == "tag"
    assert error.location.line == 1
    assert error.location.column == column
    assert f'"{tag}"' in error.message
    assert "not allowed" in error.message


def test_python_object_tag_at_the_root() -> None:
    error = only_error('!!python/object/apply:os.system ["echo hi"]\n')
    assert error.code == "tag"
    assert where(error) == (FILE, 1, 1, "")
    assert "!!python/object/apply:os.system" in error.message


def test_tag_on_a_key() -> None:
    error = only_error("!!str a: 1\n")
    assert error.code == "tag"
    assert (error.location.line, error.location.column) == (1, 1)


def test_non_scalar_key() -> None:
    error = only_error("rule:\n  ? [a, b]\n  : 1\n  c: 2\n")
    assert error.code == "non-scalar-key"
    assert where(error) == (FILE, 2, 5, "/rule")


def test_non_scalar_key_in_a_flow_mapping() -> None:
    error = only_error("a: {[x]: 1}\n")
    assert error.code == "non-scalar-key"
    assert (error.location.line, error.location.column) == (1, 5)


@pytest.mark.parametrize(
    ("text", "column", "pointer", "words"),
    [
        ("1: a\n", 1, "/1", "read as a number"),
        ("1.5: a\n", 1, "/1.5", "read as a number"),
        ("true: a\n", 1, "/true", "read as a boolean"),
        ("null: a\n", 1, "/null", "read as null"),
        ("~: a\n", 1, "/~0", "read as null"),
        ("{x: 1, 2: b}\n", 8, "/2", "read as a number"),
    ],
)
def test_non_string_keys(text: str, column: int, pointer: str, words: str) -> None:
    error = only_error(text)
    assert error.code == "non-string-key"
    assert where(error) == (FILE, 1, column, pointer)
    assert words in error.message
    assert "keys must be text" in error.message


def test_empty_key() -> None:
    error = only_error("? \n: 1\n")
    assert error.code == "non-string-key"
    assert "empty key" in error.message


def test_multiple_documents() -> None:
    error = only_error("a: 1\n---\nb: 2\n")
    assert error.code == "multiple-documents"
    assert where(error) == (FILE, 2, 1, "")


def test_explicit_single_document_is_fine() -> None:
    assert parse_source("---\na: 1\n...\n", FILE).data == {"a": Decimal(1)}


def test_too_deep_flow_nesting_without_recursion_error() -> None:
    text = "[" * 1000 + "]" * 1000 + "\n"
    error = only_error(text)
    assert error.code == "too-deep"
    assert (error.location.line, error.location.column) == (1, MAX_DEPTH + 1)
    assert error.location.pointer == "/0" * MAX_DEPTH
    assert str(MAX_DEPTH) in error.message


def test_nesting_at_the_limit_is_fine() -> None:
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n"
    data = parse_source(text, FILE).data
    for _ in range(MAX_DEPTH - 1):
        assert isinstance(data, list) and len(data) == 1
        data = data[0]
    assert data == []
    error = only_error("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n")
    assert error.code == "too-deep"


def test_too_deep_block_nesting() -> None:
    lines = [" " * (2 * depth) + f"k{depth}:" for depth in range(MAX_DEPTH + 1)]
    lines[-1] += " x"
    error = only_error("\n".join(lines) + "\n")
    assert error.code == "too-deep"
    assert where(error)[1:3] == (MAX_DEPTH + 1, 2 * MAX_DEPTH + 1)


def test_too_many_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MAX_NODES == 200_000
    monkeypatch.setattr(source, "MAX_NODES", 10)
    parse_source("[" + ",".join(["1"] * 9) + "]\n", FILE)  # 10 nodes: the list and 9 scalars
    error = only_error("[" + ",".join(["1"] * 10) + "]\n")
    assert error.code == "too-large"
    assert (error.location.line, error.location.column) == (1, 20)
    assert "10" in error.message


def test_too_large_text() -> None:
    error = only_error("a: " + "x" * MAX_FILE_BYTES + "\n")
    assert error.code == "too-large"
    assert where(error) == (FILE, 0, 0, "")
    assert f"{MAX_FILE_BYTES:,} bytes" in error.message


def test_every_problem_of_one_pass_is_reported_sorted() -> None:
    text = "a: 1\nb: &x 2\nc: !!str 3\na: 4\n1: 5\n<<: {}\n"
    errors = load_errors(text)
    assert [(e.code, e.location.line, e.location.column) for e in errors] == [
        ("anchor", 2, 4),
        ("tag", 3, 4),
        ("duplicate-key", 4, 1),
        ("non-string-key", 5, 1),
        ("merge-key", 6, 1),
    ]


def test_errors_before_a_syntax_error_are_kept_and_parsing_stops() -> None:
    errors = load_errors("a: 1\na: 2\nb: [1\nc: *x\n")
    assert [e.code for e in errors] == ["duplicate-key", "yaml-syntax"]


def test_error_json_shape() -> None:
    error = only_error("a: 1\na: 2\n")
    assert error.to_json() == {
        "code": "duplicate-key",
        "message": 'duplicate key "a"; first defined at line 1, column 1',
        "file": FILE,
        "line": 2,
        "column": 1,
        "pointer": "/a",
        "severity": "error",
    }


# ------------------------------------------------------------------------------------- read_source


def test_read_source(tmp_path: Path) -> None:
    path = tmp_path / "claim.yaml"
    path.write_text("name: 订单\nlimit: 300.00\n", encoding="utf-8")
    doc = read_source(path)
    assert doc.path == str(path)
    assert doc.data == {"name": "订单", "limit": Decimal("300.00")}
    assert read_source(path, display="policies/claim.yaml").path == "policies/claim.yaml"


def test_read_source_drops_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    doc = read_source(path)
    assert doc.data == {"a": Decimal(1)}
    assert doc.location("/a") == SourceLocation(str(path), 1, 4, "/a")


def test_read_source_too_large_checked_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.yaml"
    size = 2 * 1024 * 1024
    path.write_bytes(b"a: " + b"x" * (size - 4) + b"\n")

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file must not be read")

    monkeypatch.setattr(Path, "open", no_reading)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    monkeypatch.setattr(Path, "read_text", no_reading)
    with pytest.raises(PolicyLoadError) as info:
        read_source(path, display="big.yaml")
    (error,) = list(info.value.errors)
    assert error.code == "too-large"
    assert where(error) == ("big.yaml", 0, 0, "")
    assert "2,097,152 bytes" in error.message
    assert "1,048,576 bytes" in error.message


def test_read_source_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes("a: 订单\nbb: x".encode() + b"\xff\xfe" + b"\n")
    with pytest.raises(PolicyLoadError) as info:
        read_source(path, display="bad.yaml")
    (error,) = list(info.value.errors)
    assert error.code == "encoding"
    assert where(error) == ("bad.yaml", 2, 6, "")
    assert "UTF-8" in error.message
    assert "0xFF" in error.message


def test_read_source_invalid_utf8_after_multibyte_text(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes("名称: 订单".encode() + b"\xc3\n")
    with pytest.raises(PolicyLoadError) as info:
        read_source(path, display="bad.yaml")
    (error,) = list(info.value.errors)
    assert where(error) == ("bad.yaml", 1, 7, "")


def test_read_source_errors_use_the_display_name(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("a: 1\na: 2\n", encoding="utf-8")
    with pytest.raises(PolicyLoadError) as info:
        read_source(path, display="policies/dup.yaml")
    assert str(info.value) == 'policies/dup.yaml:2:1: duplicate key "a"; first defined at line 1, column 1'


# ------------------------------------------------------------------------------- positions, pointers


POLICY = """\
program: guarantee
decisions:
  claim:
    rules:
      - id: big
        when: order.amount > 100
      - id: small
        when: >-
          order.amount <= 100
"""


def test_positions_and_key_positions_of_nested_nodes() -> None:
    doc = parse_source(POLICY, FILE)
    assert doc.positions[""] == Position(1, 1, 0)
    assert doc.positions["/program"] == Position(1, 10, 9)
    assert doc.key_positions["/program"] == Position(1, 1, 0)
    assert doc.key_positions["/decisions"] == Position(2, 1, 19)
    assert doc.positions["/decisions"].line == 3
    assert doc.positions["/decisions/claim/rules"] == Position(5, 7, 56)
    rule0 = doc.positions["/decisions/claim/rules/0"]
    assert (rule0.line, rule0.column) == (5, 9)
    assert doc.key_positions["/decisions/claim/rules/1/when"].line == 8
    assert doc.key_positions["/decisions/claim/rules/1/when"].column == 9
    when1 = doc.positions["/decisions/claim/rules/1/when"]
    assert (when1.line, when1.column) == (8, 15)
    assert doc.text[when1.index] == ">"
    # Positions index the text.
    for pointer, position in doc.key_positions.items():
        key = pointer.rsplit("/", 1)[1]
        assert doc.text.startswith(key, position.index)


def test_scalar_spans() -> None:
    doc = parse_source("a: 'x'\nb: plain text\nc: |\n  lit\n", FILE)
    assert doc.scalars["/a"] == ScalarSpan(Position(1, 4, 3), Position(1, 7, 6), "'")
    assert doc.scalars["/b"] == ScalarSpan(Position(2, 4, 10), Position(2, 14, 20), None)
    assert doc.scalars["/c"].style == "|"
    assert doc.scalars["/c"].start == Position(3, 4, 24)
    assert "/" not in doc.scalars  # mappings have no span
    assert set(doc.scalars) == {"/a", "/b", "/c"}


def test_pointer_escaping_of_keys_with_slash_and_tilde() -> None:
    doc = parse_source("a/b:\n  c~d:\n    - x\n    - {~/e: f}\n", FILE)
    assert doc.data == {"a/b": {"c~d": ["x", {"~/e": "f"}]}}
    assert set(doc.positions) == {
        "",
        "/a~1b",
        "/a~1b/c~0d",
        "/a~1b/c~0d/0",
        "/a~1b/c~0d/1",
        "/a~1b/c~0d/1/~0~1e",
    }
    assert doc.key_positions["/a~1b/c~0d"] == Position(2, 3, 7)
    assert doc.key_positions["/a~1b/c~0d/1/~0~1e"].line == 4
    assert doc.location("/a~1b/c~0d/1/~0~1e") == SourceLocation(FILE, 4, 13, "/a~1b/c~0d/1/~0~1e")
    assert escape_pointer_token("~/") == "~0~1"
    assert escape_pointer_token("a~1") == "a~01"


def test_duplicate_key_error_pointer_is_escaped() -> None:
    error = only_error("x/y: 1\nx/y: 2\n")
    assert error.location.pointer == "/x~1y"


def test_location() -> None:
    doc = parse_source(POLICY, FILE)
    assert doc.location("/program") == SourceLocation(FILE, 1, 10, "/program")
    assert doc.location("/program", key=True) == SourceLocation(FILE, 1, 1, "/program")
    assert doc.location("", key=True) == SourceLocation(FILE, 1, 1, "")
    # Unknown pointers fall back to their nearest known ancestor but keep their own pointer.
    assert doc.location("/decisions/claim/rules/0/effect") == SourceLocation(
        FILE, 5, 9, "/decisions/claim/rules/0/effect"
    )
    assert doc.location("/decisions/claim/rules/0/effect", key=True).line == 5
    assert doc.location("/nope/deeper").line == 1
    assert doc.location("not-a-pointer") == SourceLocation(FILE, 1, 1, "not-a-pointer")


def test_location_of_an_empty_document() -> None:
    doc = parse_source("", FILE)
    assert doc.location("/a") == SourceLocation(FILE, 0, 0, "/a")
    assert str(doc.location("/a")) == FILE


def test_source_document_is_frozen() -> None:
    doc = parse_source("a: 1\n", FILE)
    assert isinstance(doc, SourceDocument)
    with pytest.raises(AttributeError):
        doc.data = None  # type: ignore[misc]


# ----------------------------------------------------------------------------------- locate_in_scalar


MULTI_LINE_WHEN = """\
rules:
  - id: vip
    when: order.amount > 100
      and user.level == 'gold'
      and  order.region   in ['cn']
"""


def char_at(text: str, location: SourceLocation) -> str:
    return text.splitlines()[location.line - 1][location.column - 1]


def test_locate_in_multi_line_plain_when() -> None:
    doc = parse_source(MULTI_LINE_WHEN, FILE)
    pointer = "/rules/0/when"
    value = doc.data["rules"][0]["when"]
    assert value == "order.amount > 100 and user.level == 'gold' and  order.region   in ['cn']"
    assert doc.locate_in_scalar(pointer, 0) == SourceLocation(FILE, 3, 11, pointer)
    user = value.index("user")
    assert doc.locate_in_scalar(pointer, user) == SourceLocation(FILE, 4, 11, pointer)
    level = value.index("level")
    assert doc.locate_in_scalar(pointer, level) == SourceLocation(FILE, 4, 16, pointer)
    region = value.index("region")
    assert doc.locate_in_scalar(pointer, region) == SourceLocation(FILE, 5, 18, pointer)
    in_ = value.index(" in ") + 1
    assert doc.locate_in_scalar(pointer, in_) == SourceLocation(FILE, 5, 27, pointer)
    # Every non-space character of the value lands on the same character in the file.
    for offset, ch in enumerate(value):
        if not ch.isspace():
            assert char_at(MULTI_LINE_WHEN, doc.locate_in_scalar(pointer, offset)) == ch, offset
    # The folded space between lines maps to the line break at the end of line 3.
    assert doc.locate_in_scalar(pointer, value.index(" and")) == SourceLocation(FILE, 3, 29, pointer)
    # Just after the value.
    assert doc.locate_in_scalar(pointer, len(value)) == SourceLocation(FILE, 5, 36, pointer)


def test_locate_in_chinese_text_counts_characters() -> None:
    text = "rule:\n  when: 用户.等级 == '金卡'\n    且 订单.金额 > 100\n"
    doc = parse_source(text, FILE)
    pointer = "/rule/when"
    value = doc.data["rule"]["when"]
    assert value == "用户.等级 == '金卡' 且 订单.金额 > 100"
    assert doc.locate_in_scalar(pointer, value.index("等级")) == SourceLocation(FILE, 2, 12, pointer)
    assert doc.locate_in_scalar(pointer, value.index("金额")) == SourceLocation(FILE, 3, 10, pointer)
    assert doc.locate_in_scalar(pointer, value.index("100")) == SourceLocation(FILE, 3, 15, pointer)
    for offset, ch in enumerate(value):
        if not ch.isspace():
            assert char_at(text, doc.locate_in_scalar(pointer, offset)) == ch, offset


@pytest.mark.parametrize(
    ("text", "needle", "line", "column"),
    [
        ("w: 'a > 1\n  and b'\n", "b", 2, 7),
        ("w: 'it''s x'\n", "x", 1, 11),
        ('w: "a > 1\n  and b"\n', "b", 2, 7),
        ('w: "tab\\there x"\n', "x", 1, 15),
        ('w: "caf\\u00e9 x"\n', "x", 1, 15),
        ('w: "ab\\\n   cd"\n', "c", 2, 4),
        ("w: |\n  a > 1\n  and b\n", "b", 3, 7),
        ("w: |-\n  金额 > 1\n    and 等级\n", "等级", 3, 9),
        ("w: >\n  a > 1\n  and b\n", "b", 3, 7),
        ("w: >- # why\n  a > 1\n\n  and b\n", "b", 4, 7),
        ("w: >\n  a\n  b", "b", 3, 3),
    ],
)
def test_locate_in_quoted_and_block_scalars(text: str, needle: str, line: int, column: int) -> None:
    doc = parse_source(text, FILE)
    offset = doc.data["w"].index(needle)
    assert doc.locate_in_scalar("/w", offset) == SourceLocation(FILE, line, column, "/w")


def test_locate_in_crlf_text() -> None:
    text = "w: a >\r\n  and b\r\n"
    doc = parse_source(text, FILE)
    assert doc.data["w"] == "a > and b"
    assert doc.locate_in_scalar("/w", doc.data["w"].index("b")) == SourceLocation(FILE, 2, 7, "/w")


def test_locate_in_scalar_falls_back_to_the_start() -> None:
    doc = parse_source("a: 1\nw: 'x'\n", FILE)
    start = SourceLocation(FILE, 2, 4, "/w")
    assert doc.locate_in_scalar("/w", 5) == start
    assert doc.locate_in_scalar("/w", -1) == start
    # A non-string scalar aligns with its own text.
    assert doc.locate_in_scalar("/a", 0) == SourceLocation(FILE, 1, 4, "/a")
    # Not a scalar: the node's location.
    assert doc.locate_in_scalar("", 3) == SourceLocation(FILE, 1, 1, "")
    assert doc.locate_in_scalar("/missing", 0) == SourceLocation(FILE, 1, 1, "/missing")


def test_text_that_is_not_unicode_is_a_located_error() -> None:
    error = only_error('a: "x\\ud800"\n')
    assert error.code in ("not-unicode", "yaml-syntax")  # libyaml refuses it as YAML, PyYAML's reader later
    assert where(error)[1] == 1


def test_an_escape_beyond_unicode_is_an_error_not_a_crash() -> None:
    error = only_error('a: "\\U00110000"\n')
    assert error.code == "yaml-syntax"

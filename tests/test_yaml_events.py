"""The YAML event builder's quick path (``_Builder.read``) builds what feeding every event to ``feed`` builds.

``read`` handles the usual scalar in line and leaves anything unusual to ``feed``; both must give the same
data, positions, scalar spans, node count and errors, with either parser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from yaml.events import ScalarEvent

from policy_engine.source import MAX_DEPTH, MAX_NUMBER_CHARS
from policy_engine.yaml_events import _Builder

ROOT = Path(__file__).resolve().parent.parent
LOADERS = [yaml.SafeLoader, *([yaml.CSafeLoader] if yaml.__with_libyaml__ else [])]

TEXTS = {
    "nested": 'a:\n  b: [1, x, \'q\', "d\\u00e9"]\n  c:\n    - {k: v, "x/y~z": 2.50}\n    - |\n      block\n',
    "duplicates": "a: 1\nb: 2\na: 3\nc: {x: 1, x: 2}\n",
    "odd keys": "true: 1\n12: 2\n~: 3\n'12': 4\n<<: 5\n+x: 6\n: 7\n",
    "anchors and tags": "a: &one 1\nb: *one\nc: !!str 3\nd: !custom x\n",
    "collection key": "? [a, b]\n: value\n? {k: v}\n: [1, 2]\nafter: ok\n",
    "dropped values": "a: 1\na: [1, {b: 2}]\n12: {c: 3}\nd: 4\n",
    "long number": f"a: {'9' * (MAX_NUMBER_CHARS + 1)}\nb: '{'9' * (MAX_NUMBER_CHARS + 1)}'\n",
    "surrogate": 'a: "\\ud800"\nb: "文本"\n"\\udfff": 1\n',
    "scalar root": "just text\n",
    "empty values": "a:\nb: ~\nc: ''\nd: [ , ]\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "syntax error": "a: [1, 2\nb: 3\n",
}


def _fed(text: str, loader: Any, *, max_nodes: int, read: bool) -> _Builder:
    builder = _Builder(
        text, "f.yaml", max_depth=MAX_DEPTH, max_nodes=max_nodes, max_number_chars=MAX_NUMBER_CHARS
    )
    parser = loader(text)
    try:
        if read:
            builder.read(parser.get_event)
        else:
            while parser.check_event():
                event = parser.get_event()
                if isinstance(event, ScalarEvent) and event.style == "":
                    event.style = None
                if not builder.feed(event):
                    break
    except yaml.YAMLError as exc:
        builder.syntax_error(exc)
    finally:
        parser.dispose()
    return builder


def _state(builder: _Builder) -> tuple[Any, ...]:
    errors = [(e.code, e.message, e.location) for e in builder.errors]
    return (
        repr(builder.root),
        builder.positions,
        builder.key_positions,
        builder.scalars,
        builder.nodes,
        errors,
    )


def _bundled() -> dict[str, str]:
    paths = sorted((ROOT / "policies").glob("*/*.yaml"))
    assert paths
    return {path.name: path.read_text(encoding="utf-8") for path in paths}


@pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.__name__)
@pytest.mark.parametrize(
    "text", [pytest.param(text, id=name) for name, text in [*TEXTS.items(), *_bundled().items()]]
)
def test_read_builds_what_feed_builds(text: str, loader: Any) -> None:
    assert _state(_fed(text, loader, max_nodes=200_000, read=True)) == _state(
        _fed(text, loader, max_nodes=200_000, read=False)
    )


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 8])
def test_the_node_limit_stops_both_at_the_same_node(limit: int) -> None:
    text = TEXTS["nested"]
    assert _state(_fed(text, yaml.SafeLoader, max_nodes=limit, read=True)) == _state(
        _fed(text, yaml.SafeLoader, max_nodes=limit, read=False)
    )

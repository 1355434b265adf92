"""Impact analysis of a policy change: ``policy diff``.

Without a corpus, :func:`~policy_engine.diff.structural.structural_diff` says what changed between two
versions (params, rules, decisions). With a corpus of decide requests (JSON Lines) or the server's decision
log, every request is evaluated under both versions and the report counts the changed outcomes and amounts,
sums the money moved per amount field and per rule, and keeps the first examples of each kind of change.
"""

from __future__ import annotations

from policy_engine.diff.command import DiffOptions, build_report
from policy_engine.diff.report import DiffReport
from policy_engine.diff.report_html import render_html
from policy_engine.diff.report_text import render_text
from policy_engine.diff.structural import StructuralDiff, structural_diff
from policy_engine.diff.summary import ImpactSummary
from policy_engine.diff.versions import DiffInputError, DiffPolicyError, PairSpec, VersionPair, load_pair

__all__ = (
    "DiffInputError",
    "DiffOptions",
    "DiffPolicyError",
    "DiffReport",
    "ImpactSummary",
    "PairSpec",
    "StructuralDiff",
    "VersionPair",
    "build_report",
    "load_pair",
    "render_html",
    "render_text",
    "structural_diff",
)

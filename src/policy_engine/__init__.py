"""Guarantee-policy engine: load, check, compile and evaluate versioned YAML policies."""

from __future__ import annotations

from policy_engine.compiled import CompiledDecision, CompiledPolicy
from policy_engine.compiler import check_policies, load_registry
from policy_engine.decision import Decision, Reason
from policy_engine.errors import (
    ErrorSet,
    EvaluationError,
    InputError,
    InputProblem,
    NotFoundError,
    PolicyCompileError,
    PolicyError,
    PolicyLoadError,
    PolicySchemaError,
    PolicySyntaxError,
    SourceLocation,
)
from policy_engine.evaluate import DecisionRequest, decide, evaluate
from policy_engine.registry import Registry

__all__ = (
    "CompiledDecision",
    "CompiledPolicy",
    "Decision",
    "DecisionRequest",
    "ErrorSet",
    "EvaluationError",
    "InputError",
    "InputProblem",
    "NotFoundError",
    "PolicyCompileError",
    "PolicyError",
    "PolicyLoadError",
    "PolicySchemaError",
    "PolicySyntaxError",
    "Reason",
    "Registry",
    "SourceLocation",
    "check_policies",
    "decide",
    "evaluate",
    "load_registry",
)

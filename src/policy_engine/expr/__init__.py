"""The expression language: parse with ``ast``, check against an allow-list and a scope, generate Python."""

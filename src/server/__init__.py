"""The decision server: the HTTP API of spec/api.md over the policy engine."""

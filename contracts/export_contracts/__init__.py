"""The contracts shared by the API, the operator and the exporter: one definition each.

- `resource`: the CompanyExport custom resource (its spec and status).
- `exporter`: how the operator runs the exporter and how the exporter reports back.
"""

"""The database: schema migrations, the JSON of a company, test and demo data.

- `migrate`: numbered SQL files in migrations/, applied once each under an advisory lock
  (`export-db migrate`, `python -m export_database migrate`).
- `company_json`: the SQL expression that builds one company's JSON (exports and List Companies).
- `generate`: `create_space` and `generate_companies` (`export-db create-space`,
  `export-db generate`).
"""

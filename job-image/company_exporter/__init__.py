"""The exporter a Kubernetes Job runs: one space's companies in a created_at range, from one
PostgreSQL snapshot, to a gzipped NDJSON object in S3, streamed with flat memory.

Modules, in the order data flows: `request` (what to export), `source` (rows as NDJSON from
PostgreSQL), `compression` (gzip and cutting into parts), `upload` (S3 multipart), `export`
(the pipeline and its progress), `cli` (exit codes and the termination message).
"""

"""The exporter a Kubernetes Job runs: one space's companies in a created_at range, from one
PostgreSQL snapshot, to a gzipped NDJSON object in S3, streamed with flat memory.

Modules, in the order data flows: `request` (what to export), `source` (the snapshot) on
`connection` (ADBC; `conninfo` the connection string, `head_start` the first connections, opened
while the rest imports), `columns` (raw columns of a slice, read by ADBC), `lines` (columns ->
NDJSON, with polars), `readers` (slices read side by side), `compression` (gzip and cutting into
parts), `upload` (S3 multipart), `export` (the pipeline and its progress), `cli` (exit codes and
the termination message), `entrypoint` (the command). A sharded export spreads the same
pipeline over the Pods of an Indexed Job: `sharding` (the coordinator and the shards) and `board`
(where they meet, in S3).
"""

import os

# Reader threads are the exporter's parallelism; polars' own pool beside them (a thread per core
# by default) measured no faster and ~18 MB larger at 1M rows. Read once, when polars loads.
os.environ.setdefault("POLARS_MAX_THREADS", "1")

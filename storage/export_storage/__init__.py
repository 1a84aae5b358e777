"""S3 as the API, the operator and the exporter use it: one client, one way to sign, delete, check.

- `S3Settings`, `s3_client`: the client every program makes from its own settings (SigV4,
  path-style at an endpoint URL, timeouts, botocore's "standard" retries).
- `ObjectStore`: the operations on an export's file: its size, a presigned GET, deleting it with
  any upload still open to its key, and aborting those uploads alone.
- `shard_board`: where the Pods of a sharded export leave their plan and manifests.
"""

from export_storage.client import S3Settings, s3_client
from export_storage.objects import ObjectStore, SignedUrl, shard_board

__all__ = ["ObjectStore", "S3Settings", "SignedUrl", "s3_client", "shard_board"]

"""python -m local_cluster: the same as the `local-cluster` command."""

import sys

from local_cluster.cli import main

sys.exit(main())

import sys

from export_database.cli import main

sys.exit(main())

import sys

from company_exporter.cli import main

sys.exit(main())

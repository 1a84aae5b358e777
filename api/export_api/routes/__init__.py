"""The API's routers: exports, List Companies, webhook endpoints, and the operational endpoints."""

import re

# A row id in a path (exports, webhook endpoints): a positive bigint. Anything else is a 404,
# never a 422 that would tell ids from other strings apart.
ROW_ID = re.compile(r"[1-9][0-9]{0,17}")

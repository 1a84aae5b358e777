"""The API's routers: exports, List Companies, and the operational endpoints."""

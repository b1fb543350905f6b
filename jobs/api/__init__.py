"""Staff JSON views for dashboards and scripts, described by the OpenAPI document they serve."""

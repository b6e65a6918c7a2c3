"""Service metadata: health and the OpenAPI document."""

"""The one API layer under /api/v1/, shared by the staff API (surveys.api) and the report API (reports.api).

- ``base``: the view mixins (visibility through selectors, roles, id parsing, the body-size limit) and
  the error responses every operation documents;
- ``permissions``: who may do what (visibility first: 404; then the role: 403);
- ``errors``: the exception handler that gives every error the shape ``{"detail", "code"}``;
- ``schema``: the serializers of that shape, for the OpenAPI schema.
"""

"""Imports from CSV and XLSX: invitations (contact lists), customer accounts, responses.

Every importer works in two passes: it checks every row first (no writes) and
collects each problem as ``{"row", "column", "message"}`` — ``row`` as the user
sees it in Excel (the header is row 1; 0 means the file as a whole) — then
writes the good rows in one transaction. Any problem raises ``ImportFailed``
and nothing is written, unless ``skip_bad_rows=True``: then the good rows are
imported and the bad ones come back in ``ImportResult.skipped``.

Columns the importer does not know are ignored, never an error (exports from
other tools carry many), and listed in ``ImportResult.ignored_columns`` so a
typo in a header ("emial") is visible to whoever runs the import.

The parts: ``tables`` reads a file as a header and rows; ``invitations``, ``accounts`` and ``responses``
are the three importers; ``_checks`` is what they share (the problem list, the cell checks, the result).
Callers import the names below from ``surveys.imports``.
"""

from surveys.imports._checks import ImportResult, describe_problems
from surveys.imports.accounts import accounts_header, import_accounts
from surveys.imports.invitations import import_invitations, invitations_header
from surveys.imports.responses import import_responses
from surveys.imports.tables import EXTRA_CELLS, Table, open_rows, open_table, read_table, table_records

__all__ = ["EXTRA_CELLS", "ImportResult", "Table", "accounts_header", "describe_problems", "import_accounts",
           "import_invitations", "import_responses", "invitations_header", "open_rows", "open_table", "read_table",
           "table_records"]

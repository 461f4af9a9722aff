"""Schemathesis hooks for `npm run fuzz:api` (loaded through SCHEMATHESIS_HOOKS=hooks).

`format: date` in the API's document means a start date the service accepts: a calendar day from
2015-01-01 (Qonto has no older transactions) to today. JSON Schema cannot say "not in the future",
so valid dates are generated from that range.
"""
from datetime import date

import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.format("date", st.dates(min_value=date(2015, 1, 1), max_value=date.today()).map(date.isoformat))

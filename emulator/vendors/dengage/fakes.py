"""D·engage fake payloads, made from the declarations of :mod:`.schemas` (valid, no note)."""
from __future__ import annotations

from .schemas import CALLER_COLUMNS, RECORD, STANDARD_COLUMNS


def fake_contact(fake) -> dict:
    """One valid BulkUpsert record with the standard columns both public callers send."""
    return RECORD.fake(fake, CALLER_COLUMNS)


def fake_bulk(fake, n: int | None = None, columns: list[str] | None = None, **options) -> dict:
    """A valid BulkUpsert body the way the public callers build it (columns = keys of record 0).

    ``columns`` picks the standard columns the records carry (``contact_key`` is always
    first); ``options`` are set at the top level (``insertIfNotExists`` ...).
    """
    if columns is None:
        records = [fake_contact(fake) for _ in range(n or 3)]
    else:
        unknown = [c for c in columns if c not in STANDARD_COLUMNS]
        if unknown:
            raise ValueError(f"dengage fake payload: {', '.join(map(repr, unknown))} not standard column(s); "
                             f"known: {', '.join(STANDARD_COLUMNS)}")
        columns = ["contact_key", *(c for c in dict.fromkeys(columns) if c != "contact_key")]
        records = []
        for _ in range(n or 3):
            full = fake_contact(fake)
            records.append({c: full[c] if c in full else STANDARD_COLUMNS[c].fake_value(fake) for c in columns})
    return {"columns": list(records[0]), "contactDatas": records, "insertIfNotExists": True,
            "throwExceptionIfInvalidRecord": False, **options}

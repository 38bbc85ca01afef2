"""Record the real vendor, verify the emulator against the recording.

``contact-emulator record`` (:mod:`.record`) is a recording proxy: it forwards each request
to the real vendor, answers with the vendor's response, and writes each exchange to a
cassette directory as one JSON file (:mod:`.cassette`), credentials redacted.
``contact-emulator verify`` (:mod:`.verifier`) replays a cassette against a fresh emulator and
reports, per endpoint, where the two agree and where they differ.
"""
from __future__ import annotations

from .cassette import CassetteError, Exchange, read_cassette
from .verifier import Report, verify

__all__ = ["CassetteError", "Exchange", "Report", "read_cassette", "verify"]

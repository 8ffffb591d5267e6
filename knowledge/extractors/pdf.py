"""PDF: text per page (pypdf)."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError, PdfStreamError

from . import ExtractionError, Segment

log = logging.getLogger(__name__)

DAMAGED = "This PDF could not be read; it may be damaged. Re-save or re-export it and upload it again."
ENCRYPTED = "This PDF is password-protected. Remove the password and upload it again."


def extract(data: bytes) -> list[Segment]:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Many PDFs are encrypted with an empty user password (only editing is
            # restricted): those open without asking anyone for anything.
            try:
                if not reader.decrypt(""):
                    raise ExtractionError(ENCRYPTED)
            except (FileNotDecryptedError, NotImplementedError):
                raise ExtractionError(ENCRYPTED)
        segments = []
        for number, page in enumerate(reader.pages, start=1):
            text = (page.extract_text() or "").strip()
            if text:
                segments.append(Segment(text=text, page=number))
        return segments
    except ExtractionError:
        raise
    except FileNotDecryptedError:
        raise ExtractionError(ENCRYPTED)
    except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        # pypdf reports damage through many exception types; all mean the same to the user.
        log.info("unreadable PDF: %r", exc)
        raise ExtractionError(DAMAGED)

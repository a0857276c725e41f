"""Logging filters."""

import logging


class NoTracebackForClientErrors(logging.Filter):
    """Django logs a refused request (403, 404) with the exception's traceback. Those are expected
    answers, not faults: keep the one-line warning and drop the traceback. 5xx keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True

"""The domain exception tree. Services and agents raise these; the API maps each one to a single
JSON error shape ``{"error": {"message", "type", "code"}}`` with the status code named here, and the
workers store ``str(exc)`` as a document's readable failure reason.

    LexLedgerError
    ├── InvalidInput                 400  the request itself is malformed
    │   ├── EmptyFile                400  zero-byte upload
    │   ├── NotAPdf                  415  bytes are not a PDF whatever the file is called
    │   ├── BadFilename              400  path separators, control characters, empty name
    │   └── FileTooLarge             413  over the upload size limit
    ├── AuthenticationFailed         401  missing or unknown API key
    ├── NotFound                     404  no such row for this tenant (another tenant's ids too)
    ├── Conflict                     409  the request clashes with the current state
    ├── RateLimited                  429  over a per-key or per-user limit (retry_after seconds)
    ├── DocumentRejected             422  the PDF cannot be processed; stored as failure_reason
    │   ├── CorruptDocument          422  unreadable structure (truncated, broken xref, ...)
    │   ├── PasswordRequired         422  encrypted with a non-empty password
    │   ├── TooManyPages             422  over the page limit
    │   └── ResourceLimitExceeded    422  parsing needed more memory/time than allowed (bombs)
    └── UpstreamUnavailable          503  a dependency (model endpoint, broker) did not answer
"""

from __future__ import annotations


class LexLedgerError(Exception):
    """Base of every error LexLedger raises on purpose."""

    status_code = 500
    code = "internal_error"
    type = "server_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(LexLedgerError):
    status_code = 400
    code = "invalid_input"
    type = "invalid_request_error"


class EmptyFile(InvalidInput):
    code = "empty_file"


class NotAPdf(InvalidInput):
    status_code = 415
    code = "not_a_pdf"


class BadFilename(InvalidInput):
    code = "bad_filename"


class FileTooLarge(InvalidInput):
    status_code = 413
    code = "file_too_large"


class AuthenticationFailed(LexLedgerError):
    status_code = 401
    code = "invalid_api_key"
    type = "authentication_error"


class NotFound(LexLedgerError):
    status_code = 404
    code = "not_found"
    type = "not_found_error"


class Conflict(LexLedgerError):
    status_code = 409
    code = "conflict"
    type = "invalid_request_error"


class RateLimited(LexLedgerError):
    status_code = 429
    code = "rate_limited"
    type = "rate_limit_error"

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DocumentRejected(LexLedgerError):
    status_code = 422
    code = "document_rejected"
    type = "invalid_request_error"


class CorruptDocument(DocumentRejected):
    code = "corrupt_document"


class PasswordRequired(DocumentRejected):
    code = "password_required"


class TooManyPages(DocumentRejected):
    code = "too_many_pages"


class ResourceLimitExceeded(DocumentRejected):
    code = "resource_limit_exceeded"


class UpstreamUnavailable(LexLedgerError):
    status_code = 503
    code = "upstream_unavailable"
    type = "server_error"

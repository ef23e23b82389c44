"""The ORM tables. Importing this package registers every table on ``Base.metadata`` (Alembic
compares the migrations against it, so every model module is imported here)."""

from app.models.audit import AuditEvent
from app.models.base import Base
from app.models.batch import Batch, BatchItem, BatchStatus
from app.models.document import Chunk, Document, DocumentStatus, Page
from app.models.job import STAGE_DOCUMENT_STATUS, Job, JobStage, StageName, StageStatus
from app.models.line import LineEvent, LineEventStatus, LineTurn, LineUser
from app.models.result import Result
from app.models.search import EntryKind, Query, QueryStatus, SearchEntry, SearchPosting
from app.models.tenant import ApiKey, Tenant
from app.models.usage import UsageRecord

__all__ = [
    "STAGE_DOCUMENT_STATUS", "ApiKey", "AuditEvent", "Base", "Batch", "BatchItem", "BatchStatus",
    "Chunk", "Document", "DocumentStatus", "EntryKind", "Job", "JobStage", "LineEvent",
    "LineEventStatus", "LineTurn", "LineUser", "Page", "Query", "QueryStatus", "Result",
    "SearchEntry", "SearchPosting", "StageName", "StageStatus", "Tenant", "UsageRecord",
]

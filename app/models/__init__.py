"""The ORM tables. Importing this package registers every table on ``Base.metadata``."""

from app.models.audit import AuditEvent
from app.models.base import Base
from app.models.document import Chunk, Document, DocumentStatus, Page
from app.models.job import STAGE_DOCUMENT_STATUS, Job, JobStage, StageName, StageStatus
from app.models.result import Result
from app.models.tenant import ApiKey, Tenant

__all__ = [
    "STAGE_DOCUMENT_STATUS", "ApiKey", "AuditEvent", "Base", "Chunk", "Document",
    "DocumentStatus", "Job", "JobStage", "Page", "Result", "StageName", "StageStatus", "Tenant",
]

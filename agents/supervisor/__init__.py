"""The supervisor: one LangGraph graph per document, triage -> the specialist the document
needs (legal or financial) -> verification, checkpointed per job so a killed worker resumes."""

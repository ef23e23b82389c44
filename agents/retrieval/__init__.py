"""Retrieval: Thai-aware hybrid search (BM25 + embeddings + document structure) over an index
kept in the database next to the chunks. ``index_document`` is the pipeline's hook;
``retrieve`` answers with page spans."""

from agents.retrieval.index import ensure_indexed, index_document
from agents.retrieval.search import Hit, retrieve

__all__ = ["Hit", "ensure_indexed", "index_document", "retrieve"]

"""The supervisor graph: triage -> legal | financial | (nothing) -> verify. The specialists
are the agents' own compiled graphs embedded as nodes, so their steps are checkpointed too and
a resumed run continues inside a specialist instead of starting it over. ``builder()`` returns
the uncompiled graph; ``build_graph(checkpointer)`` compiles it (the analysis stage passes the
Postgres or SQLite saver; nothing is compiled at import time)."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agents.financial.graph import builder as financial_builder
from agents.legal.graph import builder as legal_builder
from agents.llm import AgentContext
from agents.supervisor.nodes import route_by_type
from agents.supervisor.state import DocumentState
from agents.triage.nodes import triage
from agents.verify.nodes import verify

VERIFY_NODE = "verify"


def builder() -> StateGraph[Any, Any, Any, Any]:
    """The whole document analysis, uncompiled."""
    graph = StateGraph(DocumentState, context_schema=AgentContext)
    graph.add_node("triage", triage)
    graph.add_node("legal", legal_builder().compile(name="legal"))
    graph.add_node("financial", financial_builder().compile(name="financial"))
    graph.add_node(VERIFY_NODE, verify)
    graph.add_edge(START, "triage")
    graph.add_conditional_edges("triage", route_by_type, ["legal", "financial", VERIFY_NODE])
    graph.add_edge("legal", VERIFY_NODE)
    graph.add_edge("financial", VERIFY_NODE)
    graph.add_edge(VERIFY_NODE, END)
    return graph


def build_graph(checkpointer: BaseCheckpointSaver | None = None
                ) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The compiled supervisor graph; with a checkpointer, thread id = job id."""
    return builder().compile(checkpointer=checkpointer, name="supervisor")

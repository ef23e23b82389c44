"""The triage agent's graph (one node). ``builder()`` returns it uncompiled; ``build_graph``
compiles it. The supervisor uses the node directly, as its first step."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agents.llm import AgentContext
from agents.triage import nodes
from agents.triage.state import TriageState


def builder() -> StateGraph[Any, Any, Any, Any]:
    """The triage agent, uncompiled."""
    graph = StateGraph(TriageState, context_schema=AgentContext)
    graph.add_node("triage", nodes.triage)
    graph.add_edge(START, "triage")
    graph.add_edge("triage", END)
    return graph


def build_graph(checkpointer: BaseCheckpointSaver | None = None
                ) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The compiled triage agent."""
    return builder().compile(checkpointer=checkpointer, name="triage")

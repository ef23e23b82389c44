"""The verification agent's graph (one node: verification is code, not a conversation).
``builder()`` returns it uncompiled for the supervisor; ``build_graph`` compiles it."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agents.verify import nodes
from agents.verify.state import VerifyState


def builder() -> StateGraph[Any, Any, Any, Any]:
    """The verification agent, uncompiled."""
    graph = StateGraph(VerifyState)
    graph.add_node("verify", nodes.verify)
    graph.add_edge(START, "verify")
    graph.add_edge("verify", END)
    return graph


def build_graph(checkpointer: BaseCheckpointSaver | None = None
                ) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The compiled verification agent."""
    return builder().compile(checkpointer=checkpointer, name="verify")

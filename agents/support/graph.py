"""The support agent's graph: detect_language -> search -> (compose -> verify | not_found).
``builder()`` returns it uncompiled; ``build_graph`` compiles it, with a checkpointer only when
one is passed (conversation memory lives in the ``queries`` rows, so none is needed)."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agents.support import nodes
from agents.support.state import SupportInput, SupportOutput, SupportState


def builder() -> StateGraph[Any, Any, Any, Any]:
    """The support agent, uncompiled."""
    graph = StateGraph(SupportState, context_schema=nodes.SupportContext,
                       input_schema=SupportInput, output_schema=SupportOutput)
    graph.add_node("detect_language", nodes.detect_language)
    graph.add_node("search", nodes.search)
    graph.add_node("compose", nodes.compose)
    graph.add_node("verify", nodes.verify)
    graph.add_node("not_found", nodes.not_found)
    graph.add_edge(START, "detect_language")
    graph.add_edge("detect_language", "search")
    graph.add_conditional_edges("search", nodes.route_after_search)
    graph.add_edge("compose", "verify")
    graph.add_edge("verify", END)
    graph.add_edge("not_found", END)
    return graph


def build_graph(checkpointer: BaseCheckpointSaver | None = None) -> CompiledStateGraph:
    """The compiled support agent."""
    return builder().compile(checkpointer=checkpointer, name="support")

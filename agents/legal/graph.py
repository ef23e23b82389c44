"""The legal agent's graph: find candidates -> the model chooses -> clause inventory -> the
model judges the clauses, risk flags -> summary. ``builder()`` returns the uncompiled graph
(the supervisor embeds it); ``build_graph`` compiles it, with a checkpointer only when one is
passed."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agents.legal import nodes
from agents.legal.state import LegalOutput, LegalState
from agents.llm import AgentContext


def builder() -> StateGraph[Any, Any, Any, Any]:
    """The legal agent, uncompiled."""
    graph = StateGraph(LegalState, context_schema=AgentContext,
                       output_schema=LegalOutput)
    graph.add_node("find_candidates", nodes.find_candidates)
    graph.add_node("choose_fields", nodes.choose_fields)
    graph.add_node("review_clauses", nodes.review_clauses)
    graph.add_node("judge_clauses", nodes.judge_clauses)
    graph.add_node("summarize", nodes.summarize)
    graph.add_edge(START, "find_candidates")
    graph.add_edge("find_candidates", "choose_fields")
    graph.add_edge("choose_fields", "review_clauses")
    graph.add_edge("review_clauses", "judge_clauses")
    graph.add_edge("judge_clauses", "summarize")
    graph.add_edge("summarize", END)
    return graph


def build_graph(checkpointer: BaseCheckpointSaver | None = None
                ) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The compiled legal agent."""
    return builder().compile(checkpointer=checkpointer, name="legal")

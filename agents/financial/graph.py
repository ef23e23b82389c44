"""The financial agent's graph: find statements -> numbers (code) -> summary. ``builder()``
returns the uncompiled graph (the supervisor embeds it); ``build_graph`` compiles it, with a
checkpointer only when one is passed."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agents.financial import nodes
from agents.financial.state import FinancialOutput, FinancialState
from agents.llm import AgentContext


def builder() -> StateGraph[Any, Any, Any, Any]:
    """The financial agent, uncompiled."""
    graph = StateGraph(FinancialState, context_schema=AgentContext,
                       output_schema=FinancialOutput)
    graph.add_node("find_statements", nodes.find_statements_node)
    graph.add_node("analyse_numbers", nodes.analyse_numbers)
    graph.add_node("summarize", nodes.summarize)
    graph.add_edge(START, "find_statements")
    graph.add_edge("find_statements", "analyse_numbers")
    graph.add_edge("analyse_numbers", "summarize")
    graph.add_edge("summarize", END)
    return graph


def build_graph(checkpointer: BaseCheckpointSaver | None = None
                ) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The compiled financial agent."""
    return builder().compile(checkpointer=checkpointer, name="financial")

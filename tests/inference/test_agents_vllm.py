"""The document agents end to end against the real inference path: the gateway in front of
the vLLM CPU server on the tiny random-weight DeepSeek-V3. The model's words are meaningless,
so its structured answers must not survive grounding; the graph must still finish, every field
must hold the deterministic value, and the result must say what the model did. Skipped when the
vLLM venv is absent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents.legal.nodes import CHOOSABLE
from agents.llm import AgentContext, chat_model
from agents.pipeline.analysis_stage import assemble_result
from app.core.settings import LLMSettings
from app.samples import SAMPLE_FACTS
from tests.agents_support import analyse, no_model, pages_of
from tests.inference.gateway_fixtures import (  # noqa: F401  (fixtures)
    CLIENT_KEY,
    Gateway,
    GatewayFactory,
    gateway_factory_fixture,
)

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


@pytest.fixture
def gateway(vllm_server: Any, gateway_factory: GatewayFactory) -> Gateway:
    """A gateway in front of the session's vLLM server (tests/inference/conftest.py)."""
    base_url, model = vllm_server
    backend = {"base_url": base_url,
               "models": {"deepseek-v3": model},
               "price": {"input_per_mtok": 0.27, "output_per_mtok": 1.10},
               "read_timeout_s": 300}
    return gateway_factory({"backends": {"local-vllm": backend},
                            "routes": {"deepseek-v3": {"backends": {"local-vllm": 1}}},
                            "keys": [{"name": "agents-test", "key": CLIENT_KEY}]})


@pytest.mark.parametrize("name", ["thai-lease.pdf", "financial-statement.pdf"])
def test_tiny_model_through_the_gateway_leaves_deterministic_results(
        gateway: Gateway, samples_dir: Path, name: str):
    context = AgentContext(chat=chat_model(settings=LLMSettings(
        base_url=gateway.base_url, api_key=CLIENT_KEY, model="deepseek-v3", timeout_s=300,
        max_retries=0)), model="deepseek-v3")
    pages = pages_of(samples_dir / name)
    state = analyse(pages, context)
    baseline = analyse(pages, no_model())
    calls = state["llm_log"]
    print(name, [(c["step"], c["status"], c["attempts"], (c["error"] or "")[:160]) for c in calls])
    assert calls and all(c["status"] in ("ok", "invalid") for c in calls), calls
    assert any(c["attempts"] >= 1 and c["model"] for c in calls)
    assert state["doc_type"] == baseline["doc_type"] == SAMPLE_FACTS[name]["doc_type"].replace(
        "financial_statement", "financial_report")
    if state["legal"]:
        fields, expected = state["legal"]["fields"], baseline["legal"]["fields"]
        assert fields["parties"] == expected["parties"]
        for field in CHOOSABLE:  # the fields the model was asked to choose
            record = fields[field]
            assert record["value"] == expected[field]["value"], field
            if record["value"] is not None:
                assert record["source"] == "rules", (field, record)
                assert record["fallback"].startswith("model answer invalid"), record
    else:
        figures = state["financial"]["key_figures"]
        assert figures == baseline["financial"]["key_figures"]
        assert state["financial"]["reconciliation"]["failed"] == 0
    result = assemble_result(state, {"id": "x", "filename": name, "sha256": "0", "pages": 1}, {})
    assert result["llm"]["status"] in ("used", "not_used")
    assert result["verification"]["citations"]["failed"] == []

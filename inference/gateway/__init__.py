"""LexLedger's OpenAI-compatible inference gateway: API keys, limits and budgets, weighted and
canary routing with retries and fallback, streaming pass-through, usage ledger and metrics, in
front of vLLM servers and external OpenAI-compatible providers. It never imports vllm."""

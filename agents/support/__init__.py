"""The support agent: a customer's question -> language -> retrieval -> an answer in the
question's language whose every claim cites (document, page), verified against the page text,
or a plain "not found in your documents"."""

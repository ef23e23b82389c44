"""The financial agent: statements, line items, key figures, ratios, year-over-year changes
and reconciliation checks computed by code, and a cited summary."""

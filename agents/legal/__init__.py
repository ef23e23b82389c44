"""The legal agent: contracts, leases and NDAs in English and Thai (fields, CUAD clause
inventory, risk flags, summary), every value with page and span provenance."""

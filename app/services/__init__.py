"""Services: the operations of the product, each owning its transaction. Query and persist
helpers take ``session`` keyword-only and never commit; the service functions commit, and enqueue
work only after the commit."""

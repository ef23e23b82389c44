"""Commands of the ``lexledger`` CLI that belong to one part of the product each (evaluation,
batches, ...). Each module holds a ``typer.Typer()`` named ``app``; ``app.cli`` mounts them."""

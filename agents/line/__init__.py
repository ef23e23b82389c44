"""The LINE support bot's worker side: event handling, replies and pushes through the official
SDK, files sent in chat, and the Celery tasks ``lexledger.interactive.line_*``."""

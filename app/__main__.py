"""``python -m app``: the same command line as ``lexledger``."""

from app.cli import main

main()

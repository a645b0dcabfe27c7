"""`python -m exgen` runs the CLI."""

from exgen.cli import main

main()

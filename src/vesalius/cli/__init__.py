"""The ``vesalius`` command line: one Typer command per stage, heavy imports inside."""

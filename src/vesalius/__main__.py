"""``python -m vesalius`` runs the command line."""

from vesalius.cli.main import main

main()

"""Alembic migrations of the index, shipped inside the package (see ``open_store``)."""

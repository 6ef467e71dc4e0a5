"""Persistence: SQLAlchemy Core tables, Alembic migrations and the unit of work."""

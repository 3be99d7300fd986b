"""Alembic's environment for the index (chain/indexdb.py: `migrate` hands it the connection)."""

from alembic import context

context.configure(connection=context.config.attributes["connection"], render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

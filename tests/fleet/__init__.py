"""Several Rivendell instances serving one room: PostgreSQL + Redis."""

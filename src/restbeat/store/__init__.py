"""The session store: one SQLite database (WAL) per person, its schema and migrations, the crash-safe
recorder the live app writes through, and the queries the review needs."""

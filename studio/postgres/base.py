"""Django's PostgreSQL backend, whose per-request health check does not cost a round trip.

With CONN_HEALTH_CHECKS on, Django checks a reused connection before the first query of every
request with `SELECT 1`: a round trip to the server on every request, the largest single item of
a cheap API read after its own query. An idle connection that is still good has nothing to read
on its socket; one the server closed (a restart, `pg_terminate_backend`, an idle timeout) has its
termination notice or the end of the stream waiting there, and one whose client state is not
clean (libpq's status not OK, a transaction left open or failed) is not idle. Those cases close
the connection as the `SELECT 1` did; a connection whose state is unclear still gets `SELECT 1`.
What neither check can see without waiting is a peer that vanished without a word (a cut
network): the `SELECT 1` would hang there too, until the TCP keepalives give up.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        conn = self.connection
        if conn is None:
            return False
        pgconn = getattr(conn, "pgconn", None)
        if pgconn is None:  # not psycopg 3
            return super().is_usable()
        if pgconn.status != pq.ConnStatus.OK:
            return False
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return super().is_usable()
        try:
            readable, _, _ = select.select([pgconn.socket], [], [], 0)
        except (OSError, ValueError):  # the socket is gone
            return False
        # Something unasked is waiting: the server's goodbye, or the closed stream. (Nothing
        # LISTENs on Django's connections, so a notification is not expected either.)
        return not readable

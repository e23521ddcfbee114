"""Everything netzops knows about PostgreSQL (psycopg 3), one module per DBA domain.

client       `Database` (lazy, read-only monitoring or admin role), `connect`, the `check` decorator
queries      the SQL files in sql/, one per query and server version
server       connectivity, database and table sizes
activity     connections, active / long-running / idle-in-transaction / blocked queries
statements   slow queries from pg_stat_statements
indexes      index usage, unused, duplicate and missing indexes
maintenance  dead tuples, cache hit rate, XID wraparound, checkpoints
users        the application's users
actions      guarded cancel/terminate, VACUUM (ANALYZE), user role and active changes
"""

from __future__ import annotations

from netzops.postgres.actions import (
    cancel_backend,
    set_user_active,
    set_user_role,
    terminate_backend,
    vacuum,
)
from netzops.postgres.activity import (
    Activity,
    BlockedQuery,
    ConnectionState,
    active_queries,
    blocked_queries,
    connections,
    idle_in_transaction,
    long_running_queries,
)
from netzops.postgres.client import Database, connect, unavailable
from netzops.postgres.indexes import (
    DuplicateIndex,
    IndexUsage,
    TableStats,
    duplicate_indexes,
    index_usage,
    missing_indexes,
    unused_indexes,
)
from netzops.postgres.maintenance import (
    CacheHits,
    Checkpoints,
    DeadTuples,
    XidAge,
    cache_hit_rate,
    checkpoints,
    dead_tuples,
    transaction_id_danger,
)
from netzops.postgres.server import (
    DatabaseSize,
    Ping,
    TableSize,
    database_size,
    ping,
    table_sizes,
)
from netzops.postgres.statements import Statement, slow_queries
from netzops.postgres.users import ROLES, User, users

__all__ = [
    "ROLES",
    "Activity",
    "BlockedQuery",
    "CacheHits",
    "Checkpoints",
    "ConnectionState",
    "Database",
    "DatabaseSize",
    "DeadTuples",
    "DuplicateIndex",
    "IndexUsage",
    "Ping",
    "Statement",
    "TableSize",
    "TableStats",
    "User",
    "XidAge",
    "active_queries",
    "blocked_queries",
    "cache_hit_rate",
    "cancel_backend",
    "checkpoints",
    "connect",
    "connections",
    "database_size",
    "dead_tuples",
    "duplicate_indexes",
    "idle_in_transaction",
    "index_usage",
    "long_running_queries",
    "missing_indexes",
    "ping",
    "set_user_active",
    "set_user_role",
    "slow_queries",
    "table_sizes",
    "terminate_backend",
    "transaction_id_danger",
    "unavailable",
    "unused_indexes",
    "users",
    "vacuum",
]

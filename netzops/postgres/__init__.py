"""Everything netzops knows about PostgreSQL (psycopg 3), one module per DBA domain.

client       `Database` (lazy, read-only monitoring or admin role), `connect`, the `check` decorator
queries      the SQL files in sql/, one per query and server version
server       connectivity, database and table sizes
activity     connections, active / long-running / idle-in-transaction / blocked queries
statements   slow queries from pg_stat_statements
indexes      index usage, unused, duplicate and missing indexes
maintenance  dead tuples, cache hit rate, XID wraparound, checkpoints
bloat        table bloat (alignment-aware estimate, or pgstattuple_approx), method named
sequences    sequence exhaustion against the column type's limit
transactions oldest open transaction, prepared transactions, waiting locks, rollback
             ratio, connections against max_connections (and the backend pools)
vacuum       vacuum/analyze staleness, freeze age against autovacuum_freeze_max_age
wal          WAL archiving failures, checkpoint age, replication slots retaining WAL
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
from netzops.postgres.autovacuum import FreezeAge, Staleness, freeze_age, maintenance_staleness
from netzops.postgres.bloat import TableBloat, table_bloat
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
from netzops.postgres.sequences import SequenceUse, sequence_danger
from netzops.postgres.server import (
    DatabaseSize,
    Ping,
    TableSize,
    database_size,
    ping,
    table_sizes,
)
from netzops.postgres.statements import Statement, slow_queries
from netzops.postgres.transactions import (
    ConnectionCapacity,
    OpenTransaction,
    PreparedTransaction,
    WaitingLock,
    connection_capacity,
    oldest_transaction,
    prepared_transactions,
    rollback_ratio,
    waiting_locks,
)
from netzops.postgres.users import ROLES, User, users
from netzops.postgres.wal import (
    Archiver,
    CheckpointAge,
    ReplicationSlot,
    checkpoint_age,
    replication_slots,
    wal_archiving,
)

__all__ = [
    "ROLES",
    "Activity",
    "Archiver",
    "BlockedQuery",
    "CacheHits",
    "CheckpointAge",
    "Checkpoints",
    "ConnectionCapacity",
    "ConnectionState",
    "Database",
    "DatabaseSize",
    "DeadTuples",
    "DuplicateIndex",
    "FreezeAge",
    "IndexUsage",
    "OpenTransaction",
    "Ping",
    "PreparedTransaction",
    "ReplicationSlot",
    "SequenceUse",
    "Staleness",
    "Statement",
    "TableBloat",
    "TableSize",
    "TableStats",
    "User",
    "WaitingLock",
    "XidAge",
    "active_queries",
    "blocked_queries",
    "cache_hit_rate",
    "cancel_backend",
    "checkpoint_age",
    "checkpoints",
    "connect",
    "connection_capacity",
    "connections",
    "database_size",
    "dead_tuples",
    "duplicate_indexes",
    "freeze_age",
    "idle_in_transaction",
    "index_usage",
    "long_running_queries",
    "maintenance_staleness",
    "missing_indexes",
    "oldest_transaction",
    "ping",
    "prepared_transactions",
    "replication_slots",
    "rollback_ratio",
    "sequence_danger",
    "set_user_active",
    "set_user_role",
    "slow_queries",
    "table_bloat",
    "table_sizes",
    "terminate_backend",
    "transaction_id_danger",
    "unavailable",
    "unused_indexes",
    "users",
    "vacuum",
    "waiting_locks",
    "wal_archiving",
]

"""Database backups proven by restore (runbook "Database backup", "Backup Verification",
"Database Corruption"), and the RPO/RTO they give.

archive   `make`: pg_dump -Fc with the server's own version (in the database container),
          streamed to `<backup dir>/<db>-<UTC time>.dump` with `<stem>.manifest.json`
          (versions, start/end, size, SHA-256, exact row counts in the dump's snapshot)
catalog   `catalog` (list with age, size, verified; RPO), `latest_verified`, retention (`keep`)
verify    `verify`: checksum, pg_restore --list, restore into a throwaway database, row counts,
          amcheck; a refusal is a P1 finding naming the file and the first failed step
actions   guarded `restore` (safety dump, all-or-nothing restore, backend stop/start,
          verified by row counts and /api/users) and `prune` (retention policy)

Public API for other procedures (the incident response's "database corruption"):

    from netzops import backups, containers
    good = backups.latest_verified(target)          # Backup | None (newest verified .dump)
    dry = backups.restore(docker, target)           # dry run: the plan and its confirmation
    done = backups.restore(docker, target, good.file, confirm=dry_confirmation)

`restore` raises BadInput for an unverified, foreign or missing backup before anything
runs; a headless run also needs `restore_backup` in the target's allowed_actions.
The backup folder is `backups.dir` of the target file, else `<outputs>/<target>/backups`.
"""

from __future__ import annotations

from netzops.backups.actions import prune, restore
from netzops.backups.archive import Manifest, backup_dir, make
from netzops.backups.catalog import Backup, backups, catalog, keep, latest_verified
from netzops.backups.verify import verify

__all__ = [
    "Backup",
    "Manifest",
    "backup_dir",
    "backups",
    "catalog",
    "keep",
    "latest_verified",
    "make",
    "prune",
    "restore",
    "verify",
]

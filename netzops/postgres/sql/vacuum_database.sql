-- Runbook "Vacuum and analyze" / "Optimize database": every table the role may vacuum.
VACUUM (ANALYZE)

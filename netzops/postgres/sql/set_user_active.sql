-- Runbook "Disable user account" (and enabling it again).
UPDATE users SET is_active = %(is_active)s WHERE username = %(username)s
RETURNING id, username, email, role, is_active, created_at

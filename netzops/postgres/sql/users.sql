-- Runbook "List all users" (plus is_active), or one of them ("Verify user exists").
SELECT id, username, email, role, is_active, created_at
  FROM users
 WHERE %(username)s::text IS NULL OR username = %(username)s::text
 ORDER BY id

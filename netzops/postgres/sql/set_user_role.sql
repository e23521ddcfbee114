-- Runbook "Update user role".
UPDATE users SET role = %(role)s WHERE username = %(username)s
RETURNING id, username, email, role, is_active, created_at

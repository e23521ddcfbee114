#!/bin/sh
# The runbook's check (pg_isready), against the local socket, as the postgres role.
exec "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_isready" -q -U postgres -h /run/postgresql -d netzwaechter

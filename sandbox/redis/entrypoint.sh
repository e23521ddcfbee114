#!/bin/sh
# Redis from the host's Debian package. The password goes into a config file on tmpfs,
# never onto the command line (where `ps` would show it).
set -eu
umask 077
conf=/run/redis/redis.conf
{
  echo "bind 0.0.0.0"
  echo "port 6379"
  echo "dir /data"
  echo "save 300 100"
  echo "appendonly no"
  echo "maxmemory ${REDIS_MAXMEMORY:-0}"
  printf 'requirepass "%s"\n' "$(cat "$REDIS_PASSWORD_FILE")"
} > "$conf"
exec redis-server "$conf"

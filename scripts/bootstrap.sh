#!/usr/bin/env bash
# Installs and starts everything netzops needs on a Debian machine, idempotently:
# Debian packages (Docker Engine + compose, PostgreSQL, Redis, nginx, Node.js), a running
# dockerd, the Python virtual environment with netzops, and the `netzops` Jupyter kernel.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[bootstrap] %s\n' "$*"; }

# Programs the sandbox containers borrow from the host (bind-mounted /usr) and our tools.
need_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  command -v curl >/dev/null || missing+=(curl)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v setpriv >/dev/null || missing+=(util-linux)
  command -v check_postgres >/dev/null || command -v check_postgres.pl >/dev/null || missing+=(check-postgres)
  ls /usr/share/postgresql/*/extension/pgstattuple.control >/dev/null 2>&1 || missing+=(postgresql-contrib)
  command -v chromium >/dev/null || missing+=(chromium)          # screenshot tests (Playwright drives it)
  command -v systemd-analyze >/dev/null || missing+=(systemd)    # schedule install: systemd-analyze verify
  printf '%s\n' "${missing[@]}"
}

missing=$(need_packages)
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "missing: $missing — install them (Debian: apt-get install $missing) and run again"
    exit 1
  fi
  say "installing: $(echo $missing)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# A Docker Engine that answers; start dockerd when none does (root on these machines).
if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    say "no Docker engine answers and this user cannot start one: start dockerd, then run again"
    exit 1
  fi
  say "starting dockerd"
  mkdir -p /var/log/netzops
  # a daemon keeps no descriptor of its caller: an inherited lock (`flock … make demo`) would
  # otherwise stay held for as long as dockerd runs
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done 2>/dev/null
    exec setsid nohup dockerd >/var/log/netzops/dockerd.log 2>&1 < /dev/null
  ) &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { say "dockerd did not start; see /var/log/netzops/dockerd.log"; tail -n 20 /var/log/netzops/dockerd.log; exit 1; }
fi

# The Python environment, reinstalled only when pyproject.toml changes.
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.netzops-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing netzops and its dependencies into .venv"
  # uv installs the same versions as pip in a fraction of the time (measured on this tree:
  # 26 s against 98 s). --compile-bytecode as pip does: without .pyc files a kernel's first
  # start compiles pandas and matplotlib, slow enough for a client to give it up for dead.
  # pip stays the fallback where uv cannot be had.
  if .venv/bin/pip install -q uv >/dev/null 2>&1; then
    VIRTUAL_ENV="$PWD/.venv" .venv/bin/uv pip install -q --compile-bytecode -e '.[dev]' \
      > .venv/pip-install.log 2>&1 || { tail -n 30 .venv/pip-install.log; exit 1; }
  else
    .venv/bin/pip install -q -e '.[dev]' > .venv/pip-install.log 2>&1 || { tail -n 30 .venv/pip-install.log; exit 1; }
  fi
  touch "$stamp"
fi
# The `netzops` kernelspec (its kernels load netzops.runner.kernel_extension) and Jupyter's
# configuration: runbook sources open read-only as notebooks, sessions under outputs/.
.venv/bin/python -c 'from netzops.runner.kernels import ensure_kernelspec; ensure_kernelspec()'
.venv/bin/python -m netzops.runner.lab >/dev/null
say "ready: $(docker version --format 'engine {{.Server.Version}}'), $(.venv/bin/python --version)"

#!/usr/bin/env bash
# Install what is missing, quickly and idempotently:
#   scripts/bootstrap.sh run    Debian packages for PDFs + the Python environment
#   scripts/bootstrap.sh test   the above + what the tests need (Chromium, PostgreSQL, Redis, poppler)
# Prints the virtual environment's directory on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-run}"

run_pkgs=(fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0)
test_pkgs=(poppler-utils chromium chromium-driver redis-server postgresql-15 pgbouncer)
pkgs=("${run_pkgs[@]}")
[ "$purpose" = "test" ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo ">> installing Debian packages: ${missing[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# The virtual environment lives outside the clone, keyed by the requirements,
# and counts as ready only after a complete install.
hash=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
venv="${KAGAMI_VENV:-$HOME/.cache/kagami/venv-$hash}"
if [ ! -f "$venv/.complete" ]; then
  echo ">> creating Python environment in $venv" >&2
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check uv >&2
  "$venv/bin/python" -m uv pip install -q --python "$venv/bin/python" -r requirements-dev.txt >&2
  touch "$venv/.complete"
fi
# axe-core (accessibility checks injected into pages by the browser tests) from the npm registry.
if [ "$purpose" = "test" ] && [ -f package-lock.json ] && [ ! -f node_modules/.package-lock.json ]; then
  echo ">> installing npm packages (axe-core)" >&2
  npm ci --silent --no-audit --no-fund >&2
fi
echo "$venv"

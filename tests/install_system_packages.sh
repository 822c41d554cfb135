#!/usr/bin/env bash
# What the suite needs that pip cannot bring, the first step of README.md's test command: Debian's
# chromium (the demo page's test drives it; Playwright's own browser download is not reachable from
# every machine) and the Debian font packages that benchmarks/external_digits.py scores on
# (src/lstm_mnist/data/font_sources.py, HELD_OUT_PACKAGES; tests/test_font_digits.py checks that
# training never reads them). Everything else comes from pip: PostgreSQL's server (pgserver), the
# training fonts, MLflow's server. Installs only what is missing; where it cannot install (not root,
# not Debian) it says so in one line and succeeds: the tests that need a missing package are then
# skipped with the reason (and fail under CI=true, where every test must run).
set -euo pipefail
cd "$(dirname "$0")/.."

packages="chromium $(python3 src/lstm_mnist/data/font_sources.py | tr '\n' ' ')"
if ! command -v dpkg-query >/dev/null; then
  echo "install_system_packages.sh: not a Debian system; the tests that need these are skipped: $packages" >&2
  exit 0
fi
missing=""
for package in $packages; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
done
if [ -z "$missing" ]; then
  exit 0
fi
as_root=""
if [ "$(id -u)" != 0 ]; then
  if ! sudo -n true 2>/dev/null; then  # sudo without a password prompt (a CI runner's) will do
    echo "install_system_packages.sh: not root; the tests that need these are skipped until they are installed: apt-get install$missing" >&2
    exit 0
  fi
  as_root="sudo"
fi
echo "install_system_packages.sh: apt-get install$missing" >&2
$as_root apt-get update -qq
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/usr/bin/env bash
# The differential oracle's reference implementation (test/oracle/rails_oracle.rb): ActiveRecord 6.1
# and ActiveSupport 6.1 with the pg driver, from Debian's package registry. Idempotent: installs
# only what is missing (CI runs as root on a fresh machine; elsewhere, run it once with sudo).
set -euo pipefail

packages=(ruby-activerecord ruby-activesupport ruby-pg)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "[oracle-deps] ${packages[*]} installed"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "[oracle-deps] missing Debian packages: ${missing[*]}; run: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "[oracle-deps] installing ${missing[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
ruby -e 'require "active_record"; require "pg"; puts "[oracle-deps] ActiveRecord #{ActiveRecord::VERSION::STRING}, ruby-pg #{PG::VERSION}"'

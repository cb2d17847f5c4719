#!/usr/bin/env bash
# Builds the self-contained runtime folder of dionysus-relay: everything
# `node OUTDIR/dist/cli/bin.js run` needs, and nothing it does not.
#
# Usage: bash scripts/build-image.sh OUTDIR [--reuse-node-modules] [--skip-build] [--force]
#                                            [--debian-deps FILE] [--version V] [--revision R]
#                                            [--created TIME] [--source URL]
#
#   --reuse-node-modules  use the checkout's node_modules as they are instead of `npm ci`
#                         (saves recompiling librdkafka, about 3 minutes)
#   --skip-build          copy the checkout's dist/ as it is instead of compiling
#   --force               empty OUTDIR first when it already has files in it
#   --debian-deps FILE    write to FILE the Debian packages that provide the shared
#                         libraries the native addons link with (libssl3, ...), one a
#                         line, for the runtime image to install (needs dpkg)
#   --version V           org.opencontainers.image.version (default: package.json's version)
#   --revision R          org.opencontainers.image.revision (default: git rev-parse HEAD)
#   --created TIME        org.opencontainers.image.created, RFC 3339 (default: now, UTC)
#   --source URL          org.opencontainers.image.source (default: the project's repository)
#
# The Dockerfile's builder stage runs this script; running it by hand gives the same
# folder, so the image's contents can be checked without Docker.
#
# OUTDIR ends up holding: package.json, package-lock.json, LICENSE, dist/, sql/, config/ and the
# production node_modules, with node-rdkafka reduced to its JavaScript, its compiled
# addon and the librdkafka shared libraries that addon loads; and image-labels.json, the
# OCI labels the Dockerfile puts on the image, from the same values.
set -euo pipefail

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//' >&2; }
step() { printf '==> %s\n' "$*"; }
die() { printf 'build-image.sh: error: %s\n' "$*" >&2; exit 1; }

OUTDIR=""
REUSE_NODE_MODULES=0
SKIP_BUILD=0
FORCE=0
DEBIAN_DEPS=""
LABEL_VERSION=""
LABEL_REVISION=""
LABEL_CREATED=""
LABEL_SOURCE="https://github.com/dionysus-relay/dionysus-relay"
while [[ $# -gt 0 ]]; do
  arg="$1"
  shift
  case "${arg}" in
    --debian-deps|--version|--revision|--created|--source)
      [[ $# -gt 0 ]] || die "${arg} needs a value"
      case "${arg}" in
        --debian-deps) DEBIAN_DEPS="$1" ;;
        --version) LABEL_VERSION="$1" ;;
        --revision) LABEL_REVISION="$1" ;;
        --created) LABEL_CREATED="$1" ;;
        --source) LABEL_SOURCE="$1" ;;
      esac
      shift
      ;;
    --reuse-node-modules) REUSE_NODE_MODULES=1 ;;
    --skip-build) SKIP_BUILD=1 ;;
    --force) FORCE=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) usage; die "unknown option ${arg}" ;;
    *)
      [[ -z "${OUTDIR}" ]] || die "only one OUTDIR may be given (got '${OUTDIR}' and '${arg}')"
      OUTDIR="${arg}"
      ;;
  esac
done
[[ -n "${OUTDIR}" ]] || { usage; die "OUTDIR is required"; }
if [[ -n "${DEBIAN_DEPS}" ]]; then
  command -v dpkg >/dev/null 2>&1 || die "--debian-deps needs dpkg (a Debian-based build machine)"
  mkdir -p "$(dirname "${DEBIAN_DEPS}")"
  DEBIAN_DEPS="$(cd "$(dirname "${DEBIAN_DEPS}")" && pwd -P)/$(basename "${DEBIAN_DEPS}")"
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
started=${SECONDS}

# --- OCI label values: checked before any work, recorded at the end.
[[ -n "${LABEL_VERSION}" ]] || LABEL_VERSION="$(node -p 'require(process.argv[1]).version' "${ROOT}/package.json")"
[[ -n "${LABEL_REVISION}" ]] || LABEL_REVISION="$(git -C "${ROOT}" rev-parse HEAD 2>/dev/null || echo unknown)"
[[ -n "${LABEL_CREATED}" ]] || LABEL_CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
[[ "${LABEL_CREATED}" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$ ]] \
  || die "--created ${LABEL_CREATED} is not an RFC 3339 time (like 2024-01-31T12:00:00Z)"
[[ -n "${LABEL_SOURCE}" ]] || die "--source needs a URL"

# --- OUTDIR checks: it is emptied with --force, so refuse anything that is not clearly a scratch folder.
mkdir -p "${OUTDIR}"
OUTDIR="$(cd "${OUTDIR}" && pwd -P)"
case "${OUTDIR}" in
  /|"${HOME:-/nonexistent}") die "refusing to use ${OUTDIR} as OUTDIR" ;;
esac
case "${ROOT}/" in
  "${OUTDIR}/"*) die "OUTDIR ${OUTDIR} is the checkout or one of its parents" ;;
esac
for dir in dist sql config node_modules; do
  case "${OUTDIR}/" in
    "${ROOT}/${dir}/"*) die "OUTDIR ${OUTDIR} is inside ${dir}/, which is copied into it" ;;
  esac
done
if [[ -n "$(ls -A "${OUTDIR}")" ]]; then
  if [[ ${FORCE} -eq 1 ]]; then
    step "emptying ${OUTDIR} (--force)"
    find "${OUTDIR}" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  else
    die "OUTDIR ${OUTDIR} is not empty (pass --force to empty it first)"
  fi
fi

cd "${ROOT}"
for f in package.json package-lock.json LICENSE; do
  [[ -f "${f}" ]] || die "${ROOT}/${f} is missing"
done

# --- 1. dependencies
if [[ ${REUSE_NODE_MODULES} -eq 1 ]]; then
  step "reusing ${ROOT}/node_modules (--reuse-node-modules)"
  [[ -d node_modules ]] || die "node_modules is missing: run npm ci first, or drop --reuse-node-modules"
else
  step "npm ci (compiles librdkafka for node-rdkafka: a few minutes)"
  npm ci --no-audit --no-fund
fi
ADDON="node_modules/node-rdkafka/build/Release/node-librdkafka.node"
[[ -f "${ADDON}" ]] || die "${ADDON} is missing: node-rdkafka was not compiled (did npm ci run its install script?)"

# --- 2. compile TypeScript
# Straight into OUTDIR: the checkout's dist/ is neither read nor written, so a compiled copy of a
# file deleted since cannot end up in the image, and two builds at once cannot disturb each other.
if [[ ${SKIP_BUILD} -eq 1 ]]; then
  step "using the existing dist/ (--skip-build)"
  [[ -d dist ]] || die "dist/ is missing (npm run build creates it)"
  cp -a dist "${OUTDIR}/"
else
  step "tsc -p tsconfig.json --outDir ${OUTDIR}/dist"
  node_modules/.bin/tsc -p tsconfig.json --outDir "${OUTDIR}/dist"
fi
[[ -f "${OUTDIR}/dist/cli/bin.js" ]] || printf 'build-image.sh: warning: dist/cli/bin.js is missing: the image entrypoint will not start\n' >&2

# --- 3. copy the runtime files
step "copying package.json, package-lock.json, LICENSE, sql/, config/, node_modules/ into ${OUTDIR}"
cp -p package.json package-lock.json LICENSE "${OUTDIR}/"
for dir in sql config; do
  if [[ -d "${dir}" ]]; then
    cp -a "${dir}" "${OUTDIR}/"
  else
    printf 'build-image.sh: warning: %s/ does not exist, not copied\n' "${dir}" >&2
  fi
done
cp -a node_modules "${OUTDIR}/"

# --- 4. drop development dependencies
# --ignore-scripts: pruning only removes packages, and without it npm may run
# node-rdkafka's install script (node-gyp rebuild) again, which needs a compiler and
# the librdkafka sources that step 5 removes.
step "npm prune --omit=dev --ignore-scripts (in ${OUTDIR})"
(cd "${OUTDIR}" && npm prune --omit=dev --ignore-scripts --no-audit --no-fund)

# --- 5. strip node-rdkafka down to what it loads at run time
# At run time node-rdkafka needs lib/, its entry files and package.json, the addon
# build/Release/node-librdkafka.node, and the shared libraries the addon links with
# through its rpath ($ORIGIN/../deps/librdkafka.so.1 and librdkafka++.so.1).
# The librdkafka sources and object files (about 500 MB) are build leftovers.
RDKAFKA="${OUTDIR}/node_modules/node-rdkafka"
if [[ -d "${RDKAFKA}" ]]; then
  step "removing node-rdkafka build leftovers"
  # Keep librdkafka's licence files: the compiled library is still shipped.
  licences="$(mktemp -d)"
  find "${RDKAFKA}/deps/librdkafka" -maxdepth 1 -type f -name 'LICENSE*' -exec cp -p {} "${licences}/" \; 2>/dev/null || true
  rm -rf "${RDKAFKA}/deps" "${RDKAFKA}/src" "${RDKAFKA}/build/Release/obj.target" \
    "${RDKAFKA}/build/Release/.deps" "${RDKAFKA}/build/deps/include" "${RDKAFKA}/build/deps/pkgconfig" \
    "${RDKAFKA}/build/deps/librdkafka" "${RDKAFKA}/test" "${RDKAFKA}/e2e" "${RDKAFKA}/bench" \
    "${RDKAFKA}/examples" "${RDKAFKA}/ci" "${RDKAFKA}/util" "${RDKAFKA}/cpplint.py" "${RDKAFKA}/deploy.enc"
  find "${RDKAFKA}/build" -maxdepth 2 -type f \( -name '*.a' -o -name '*.mk' -o -name 'Makefile' \
    -o -name '*.Makefile' -o -name 'config.gypi' -o -name '*.target.mk' \) -delete
  mkdir -p "${RDKAFKA}/deps/librdkafka"
  cp -p "${licences}"/* "${RDKAFKA}/deps/librdkafka/" 2>/dev/null || true
  rm -rf "${licences}"
  # librdkafka is compiled with debug symbols; they are not needed to run it.
  if command -v strip >/dev/null 2>&1; then
    step "stripping debug symbols from the librdkafka shared libraries"
    find "${RDKAFKA}/build" -type f \( -name '*.so.*' -o -name '*.node' \) -exec strip --strip-unneeded {} \;
  fi
fi

# --- 6. verify the result loads on its own
step "checking that node-rdkafka loads from ${OUTDIR}"
node -e '
  const kafka = require(process.argv[1]);
  if (typeof kafka.Producer !== "function") throw new Error("node-rdkafka loaded without a Producer");
  console.log("    node-rdkafka " + require(process.argv[2]).version + ", librdkafka " + kafka.librdkafkaVersion + ", features: " + kafka.features.join(","));
' "${OUTDIR}/node_modules/node-rdkafka" "${OUTDIR}/node_modules/node-rdkafka/package.json"
for dep in pg pino pino-pretty convict prom-client yaml; do
  [[ -d "${OUTDIR}/node_modules/${dep}" ]] || die "runtime dependency ${dep} is missing from ${OUTDIR}/node_modules"
done
for dev in typescript eslint @types/node; do
  [[ ! -e "${OUTDIR}/node_modules/${dev}" ]] || die "development dependency ${dev} survived the prune"
done

# --- 7. list the system packages the native code needs (for the slim runtime image)
# librdkafka links OpenSSL, zlib and whatever optional libraries (zstd, curl, SASL) the
# build machine had; the slim image has only some of them, so it installs this list.
if [[ -n "${DEBIAN_DEPS}" ]]; then
  step "listing the Debian packages the native addons need into ${DEBIAN_DEPS}"
  owner_of() {
    # usrmerge: a library can be registered under /lib or /usr/lib, by its name or its target.
    local lib="$1" real path
    real="$(readlink -f "${lib}")"
    for path in "${lib}" "${real}" "/usr${lib}" "/usr${real}" "${lib#/usr}" "${real#/usr}"; do
      dpkg -S "${path}" 2>/dev/null | head -n 1 | cut -d: -f1 && return 0
    done
    return 1
  }
  : >"${DEBIAN_DEPS}.tmp"
  while IFS= read -r lib; do
    case "$(readlink -f "${lib}")" in "${OUTDIR}"/*) continue ;; esac
    owner_of "${lib}" >>"${DEBIAN_DEPS}.tmp" || die "no Debian package owns ${lib}"
  done < <(find "${OUTDIR}/node_modules" -type f \( -name '*.node' -o -name '*.so' -o -name '*.so.*' \) \
             -exec ldd {} \; 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u)
  if grep -q . "${DEBIAN_DEPS}.tmp"; then
    sort -u "${DEBIAN_DEPS}.tmp" >"${DEBIAN_DEPS}"
  else
    : >"${DEBIAN_DEPS}"
  fi
  rm -f "${DEBIAN_DEPS}.tmp"
  sed 's/^/    /' "${DEBIAN_DEPS}"
fi

# --- 8. the OCI labels, as the Dockerfile's runtime stage sets them (keep the two lists equal)
step "recording the OCI image labels in ${OUTDIR}/image-labels.json"
node -e '
  const [file, version, revision, created, source] = process.argv.slice(1);
  const labels = {
    "org.opencontainers.image.title": "dionysus-relay",
    "org.opencontainers.image.description": "Publishes rows of the dionysus_outboxes table to Kafka",
    "org.opencontainers.image.version": version,
    "org.opencontainers.image.revision": revision,
    "org.opencontainers.image.created": created,
    "org.opencontainers.image.source": source,
    "org.opencontainers.image.url": source,
    "org.opencontainers.image.documentation": `${source}/blob/${revision}/README.md`,
    "org.opencontainers.image.licenses": "MIT",
  };
  require("node:fs").writeFileSync(file, JSON.stringify(labels, null, 2) + "\n");
  for (const [key, value] of Object.entries(labels)) console.log(`    ${key}=${value}`);
' "${OUTDIR}/image-labels.json" "${LABEL_VERSION}" "${LABEL_REVISION}" "${LABEL_CREATED}" "${LABEL_SOURCE}"

step "done in $((SECONDS - started))s: ${OUTDIR} holds $(du -sh "${OUTDIR}" | cut -f1)"
du -sh "${OUTDIR}"/* 2>/dev/null | sed 's/^/    /'
du -sh "${OUTDIR}/node_modules/node-rdkafka" 2>/dev/null | sed 's/^/    /'

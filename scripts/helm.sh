#!/usr/bin/env bash
# Runs a pinned Helm 3, building it from source with the Go toolchain the first time.
#
# Usage: bash scripts/helm.sh <helm arguments...>
#   e.g. bash scripts/helm.sh lint helm/dionysus-relay
#        bash scripts/helm.sh template rel helm/dionysus-relay -f helm/dionysus-relay/ci/full-values.yaml
#        bash scripts/helm.sh --print-path     (only build, then print the binary's path)
#
# Why build it: the machines this project runs on reach the Go module proxy but not
# release download sites, so `go install` is the one way to get a real helm binary.
# The binary is kept in ${DIONYSUS_CACHE_DIR:-$HOME/.cache/dionysus-relay}/helm-<version>/
# and reused on later runs; the first build takes a few minutes.
#
# Environment:
#   DIONYSUS_CACHE_DIR   cache root (default $HOME/.cache/dionysus-relay)
#   DIONYSUS_HELM_VERSION  override the pinned version (for trying an upgrade)
#   HELM_BIN             use this helm binary instead of building one
set -euo pipefail

HELM_VERSION="${DIONYSUS_HELM_VERSION:-v3.21.4}"
CACHE_ROOT="${DIONYSUS_CACHE_DIR:-${HOME:-/tmp}/.cache/dionysus-relay}"
HELM_DIR="${CACHE_ROOT}/helm-${HELM_VERSION}"
HELM="${HELM_DIR}/helm"

log() { printf 'helm.sh: %s\n' "$*" >&2; }

build_helm() {
  if ! command -v go >/dev/null 2>&1; then
    log "error: 'go' is not on PATH; it is needed to build helm ${HELM_VERSION} (or set HELM_BIN)"
    exit 127
  fi
  mkdir -p "${HELM_DIR}"
  # Serialise concurrent first runs (two test files, two terminals) on a lock file.
  exec 9>"${HELM_DIR}/.lock"
  if command -v flock >/dev/null 2>&1; then
    if ! flock -n 9; then
      log "another build of helm ${HELM_VERSION} is running; waiting for it"
      flock 9
    fi
  fi
  if [[ -x "${HELM}" ]] && "${HELM}" version --short >/dev/null 2>&1; then
    exec 9>&-
    return 0
  fi
  log "building helm ${HELM_VERSION} with $(go version | awk '{print $3}') (first run only; takes a few minutes)"
  log "target: ${HELM}"
  local started=${SECONDS} tmp_bin="${HELM_DIR}/.bin.tmp"
  rm -rf "${tmp_bin}"
  mkdir -p "${tmp_bin}"
  # -x would print every compiler call; instead print a heartbeat so a caller sees progress.
  (
    while sleep 20; do log "... still building helm ($((SECONDS - started))s)"; done
  ) &
  local ticker=$!
  # Stop the ticker whatever happens to the build.
  trap 'kill "${ticker}" 2>/dev/null || true' EXIT
  local rc=0
  # Release builds also stamp the Kubernetes version that `helm template`/`lint` assume
  # (.Capabilities.KubeVersion), derived from the client-go version helm is built with.
  # Without it helm falls back to v1.20. Read it from helm's go.mod in the module cache.
  local kube_major=1 kube_minor=20 gomod client_go
  # (Both go commands run from the cache folder so a go.mod in the caller's directory is never touched.)
  gomod=$(cd "${HELM_DIR}" && go mod download -json "helm.sh/helm/v3@${HELM_VERSION}" 2>/dev/null \
    | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p' || true)
  if [[ -n "${gomod}" && -f "${gomod}" ]]; then
    client_go=$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "${gomod}")
    if [[ "${client_go}" =~ ^v0\.([0-9]+)\. ]]; then
      kube_minor="${BASH_REMATCH[1]}"
    fi
  fi
  log "default Kubernetes version for rendering: v${kube_major}.${kube_minor}"
  # helm's own Makefile sets CGO_ENABLED=0 for release binaries; do the same (no C toolchain needed).
  # The ldflags put the version into `helm version` just as a release build does.
  (cd "${HELM_DIR}" && GOBIN="${tmp_bin}" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" \
    go install \
      -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION} -X helm.sh/helm/v3/internal/version.metadata= -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=${kube_major} -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${kube_minor} \
-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=${kube_major} -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${kube_minor}" \
      "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}") || rc=$?
  kill "${ticker}" 2>/dev/null || true
  wait "${ticker}" 2>/dev/null || true
  trap - EXIT
  if [[ ${rc} -ne 0 || ! -x "${tmp_bin}/helm" ]]; then
    rm -rf "${tmp_bin}"
    log "error: go install helm.sh/helm/v3/cmd/helm@${HELM_VERSION} failed (exit ${rc})"
    exit 1
  fi
  mv -f "${tmp_bin}/helm" "${HELM}"
  rm -rf "${tmp_bin}"
  log "built $("${HELM}" version --short) in $((SECONDS - started))s"
  # Release the lock now rather than hand it on to the helm process exec'd below.
  exec 9>&-
}

if [[ -n "${HELM_BIN:-}" ]]; then
  HELM="${HELM_BIN}"
elif [[ ! -x "${HELM}" ]]; then
  build_helm
fi

# Keep helm's own state (repositories, plugins, registry logins) out of the user's
# real helm config: charts here are rendered from local files only.
export HELM_CACHE_HOME="${HELM_CACHE_HOME:-${HELM_DIR}/home/cache}"
export HELM_CONFIG_HOME="${HELM_CONFIG_HOME:-${HELM_DIR}/home/config}"
export HELM_DATA_HOME="${HELM_DATA_HOME:-${HELM_DIR}/home/data}"

if [[ "${1:-}" == "--print-path" ]]; then
  printf '%s\n' "${HELM}"
  exit 0
fi

exec "${HELM}" "$@"

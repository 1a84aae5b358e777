#!/usr/bin/env bash
# Builds the local cluster's third-party binaries from their Go modules (Kubernetes' control plane and
# node, etcd, CoreDNS, kube-router, helm, the OCI registry) and the Pod sandbox's pause program, once per version, into a cache outside the work tree. A second run with the same versions
# builds nothing; after a version change, only the binaries of that version are built (the others
# are copied from the folder of the earlier versions).
#
#   local-cluster/build-binaries.sh            # prints the folder that holds the binaries
#
# Needs Go >= 1.26 and a Go module proxy. Cache root: $COMPANY_EXPORTS_CACHE (default ~/.cache/company-exports).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache="${COMPANY_EXPORTS_CACHE:-$HOME/.cache/company-exports}"
# Each binary's version is part of the folder's name: "<key>-v<version>" per binary.
k8s_key="k8s-v$KUBERNETES_VERSION" etcd_key="etcd-v$ETCD_VERSION" helm_key="helm-v$HELM_VERSION"
registry_key="registry-v$REGISTRY_VERSION" coredns_key="coredns-v$COREDNS_VERSION"
kube_router_key="kube-router-v$KUBE_ROUTER_VERSION"
bin="$cache/bin/$k8s_key-$etcd_key-$helm_key-$registry_key-$coredns_key-$kube_router_key"
kubernetes_commands=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
binaries=("${kubernetes_commands[@]}" pause etcd helm registry coredns kube-router)
export CGO_ENABLED=0 GOFLAGS="-buildvcs=false -trimpath"

say() { echo "[build-binaries] $*" >&2; }

# Kubernetes' go.mod requires its staging modules at v0.0.0 and maps them to ./staging with replace
# directives, which Go ignores in a dependency: our wrapper module repeats each replace with the
# published v0.<minor>.<patch>, derived from that release's own go.mod so the list never goes stale.
build_kubernetes() {
  local mod="$cache/go/kubernetes-v$KUBERNETES_VERSION" staging_version="v0.${KUBERNETES_VERSION#1.}"
  mkdir -p "$mod" && cd "$mod"
  [ -f go.mod ] || go mod init local.build/kubernetes >/dev/null 2>&1
  local upstream_mod
  upstream_mod="$(go mod download -json "k8s.io/kubernetes@v$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  for staging in $(sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) v0.0.0$#\1#p' "$upstream_mod"); do
    go mod edit -replace="$staging=$staging@$staging_version"
  done
  local cmd
  for cmd in "${kubernetes_commands[@]}"; do
    go get "k8s.io/kubernetes/cmd/$cmd@v$KUBERNETES_VERSION" 2>>"$cache/go/get.log"
  done
  local minor="${KUBERNETES_VERSION#1.}"; minor="${minor%%.*}"
  local ldflags="-s -w" key value
  for pair in "gitVersion=v$KUBERNETES_VERSION" gitMajor=1 "gitMinor=$minor" gitTreeState=clean \
              "gitCommit=v$KUBERNETES_VERSION-go-module" "buildDate=1970-01-01T00:00:00Z"; do
    key="${pair%%=*}" value="${pair#*=}"
    ldflags+=" -X k8s.io/component-base/version.$key=$value -X k8s.io/client-go/pkg/version.$key=$value"
  done
  for cmd in "${kubernetes_commands[@]}"; do
    [ -x "$bin.partial/$cmd" ] && continue
    say "building $cmd v$KUBERNETES_VERSION (cold: several minutes per binary)"
    go build -ldflags "$ldflags" -o "$bin.partial/$cmd" "k8s.io/kubernetes/cmd/$cmd"
  done
}

# One binary from a Go module, built in a wrapper module of its own: the module's replace directives
# (etcd has some) would be ignored in a dependency, and no two dependency graphs are ever unified.
#   build_module NAME VERSION PACKAGE [more -ldflags]
build_module() {
  local name="$1" version="$2" package="$3" ldflags="-s -w ${4:-}"
  local mod="$cache/go/$name-v$version"
  mkdir -p "$mod" && cd "$mod"
  [ -f go.mod ] || go mod init "local.build/$name" >/dev/null 2>&1
  go get "$package@v$version" 2>>"$cache/go/get.log"
  say "building $name v$version"
  go build -ldflags "$ldflags" -o "$bin.partial/$name" "$package"
}

build_etcd() { build_module etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3; }

# helm prints the compiled-in version, and its default Kubernetes version is v1.20 unless stamped.
build_helm() {
  local minor="${KUBERNETES_VERSION#1.}"
  minor="${minor%%.*}"
  build_module helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
    "-X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor"
}

# The CNCF distribution registry: the local OCI registry that holds the images and the chart.
build_registry() {
  build_module registry "$REGISTRY_VERSION" github.com/distribution/distribution/v3/cmd/registry \
    "-X github.com/distribution/distribution/v3/version.version=v$REGISTRY_VERSION"
}

# The Pod sandbox's program: Kubernetes' own pause.c from the same release's module, linked statically
# so that an image of this one file needs nothing else.
build_pause() {
  local source
  source="$(go mod download -json "k8s.io/kubernetes@v$KUBERNETES_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  say "building pause v$KUBERNETES_VERSION"
  gcc -Os -static -DVERSION="v$KUBERNETES_VERSION" -o "$bin.partial/pause" "$source/build/pause/linux/pause.c"
  strip "$bin.partial/pause"
}

# CoreDNS, the cluster's DNS server (its kubernetes plugin answers for Services).
build_coredns() { build_module coredns "$COREDNS_VERSION" github.com/coredns/coredns; }

# kube-router, of which only the network-policy firewall runs (it enforces NetworkPolicies);
# about 6 minutes cold.
build_kube_router() {
  build_module kube-router "$KUBE_ROUTER_VERSION" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router \
    "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=v$KUBE_ROUTER_VERSION"
}

# The key of a binary's version: Kubernetes' commands and pause share the release's.
key_of() {
  case "$1" in
    etcd) echo "$etcd_key" ;;
    helm) echo "$helm_key" ;;
    registry) echo "$registry_key" ;;
    coredns) echo "$coredns_key" ;;
    kube-router) echo "$kube_router_key" ;;
    *) echo "$k8s_key" ;;
  esac
}

# A binary whose version did not change is taken from a cached folder whose name has its key
# ("k8s-v1.37.2" for both Kubernetes binaries), so a new registry version does not rebuild Kubernetes.
reuse() {
  local name="$1" key="$2" folder
  for folder in "$cache"/bin/*; do
    case "-$(basename "$folder")-" in *.partial-) continue ;; *"-$key-"*) ;; *) continue ;; esac
    if [ -x "$folder/$name" ]; then
      cp -p "$folder/$name" "$bin.partial/$name.copy" && mv "$bin.partial/$name.copy" "$bin.partial/$name"
      say "reusing $name from $folder"
      return 0
    fi
  done
  return 1
}

# Two builds at once (two test sessions, `make up` beside `make test`) would share the partial folder.
mkdir -p "$cache"
exec 9>"$cache/build.lock"
flock 9

has_all() {
  local name
  for name in "${binaries[@]}"; do [ -x "$1/$name" ] || return 1; done
}

if has_all "$bin"; then
  say "cached: $bin"
else
  started=$SECONDS
  mkdir -p "$bin.partial"
  for name in "${binaries[@]}"; do
    [ -x "$bin.partial/$name" ] || reuse "$name" "$(key_of "$name")" || true
  done
  if ! has_all "$bin.partial"; then
    command -v go >/dev/null || { say "Go is missing: install Go >= 1.26 (Debian's golang-go is too old)"; exit 1; }
  fi
  for name in etcd helm registry coredns kube-router pause; do
    [ -x "$bin.partial/$name" ] || "build_${name//-/_}"
  done
  has_all "$bin.partial" || build_kubernetes
  rm -rf "$bin" && mv "$bin.partial" "$bin"
  say "built in $((SECONDS - started)) s: $bin"
fi
echo "$bin"

#!/usr/bin/env bash
# Validates the kiss-server Kubernetes manifests, offline:
#   1. every resource in kiss-server/deploy (each YAML document) against the
#      Kubernetes JSON schemas shipped inside PyPI's kubernetes-validate,
#      strictly (unknown fields are errors), for the newest and the oldest
#      Kubernetes version we support; the kustomizations' lists of files
#      must match the files present;
#   2. when a kustomize renderer is on PATH (`kustomize`, or `kubectl
#      kustomize`), the rendered base and the base with each component
#      (tls/, kubernetes-authz/, rolebinding-authz/) the same way;
#   3. the kiss-server container's args, in the base and with each component
#      as rendered, with `kiss-server --check-config`, which checks every
#      flag and the regex and exits without serving (TLS files that only
#      exist in the pod are stood in for by a throwaway self-signed pair made
#      with openssl; the pod's service account, which the Kubernetes
#      authorization modes use, by a kubeconfig that is read, never used).
# Exits non-zero if any step fails.
#
# Usage: scripts/validate-manifests.sh [DIR]
#   DIR defaults to kiss-server/deploy; an overlay of your own works too
#   (it is then checked as rendered, which needs kustomize or kubectl).
# Environment:
#   KUBE_VERSIONS  schema versions to check (default "1.37.0 1.30.0")
#   KISS_SERVER_BIN  a kiss-server binary to use instead of building target/debug/kiss-server
set -euo pipefail
cd "$(dirname "$0")/.."

DEPLOY_DIR=${1:-kiss-server/deploy}
KUBE_VERSIONS=${KUBE_VERSIONS:-"1.37.0 1.30.0"}
KUBERNETES_VALIDATE_VERSION=1.37.0

if [ ! -d "$DEPLOY_DIR" ]; then
  echo "validate-manifests: no directory '$DEPLOY_DIR'" >&2
  exit 2
fi

step_start=0
step() { step_start=$SECONDS; echo "==> $*"; }
done_step() { echo "    ok ($((SECONDS - step_start)) s)"; }

# --- tools -------------------------------------------------------------------
step "kubernetes-validate $KUBERNETES_VALIDATE_VERSION in .venv"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('kubernetes-validate') != '$KUBERNETES_VALIDATE_VERSION')" 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi
done_step

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- 1. the plain files --------------------------------------------------------
# manifests.py sorts the YAML files into resources (validated), kustomizations
# and patches (parsed, and their file lists checked), and extracts args.
cat >"$work/manifests.py" <<'PY'
import os
import sys

import yaml


def docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def yaml_files(root):
    for base, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name.endswith((".yaml", ".yml")):
                yield os.path.join(base, name)


def is_kustomization(doc):
    return isinstance(doc, dict) and str(doc.get("apiVersion", "")).startswith(
        "kustomize.config.k8s.io/"
    )


def is_resource(doc):
    return isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc


def classify(root):
    """Prints each resource file; fails on files kustomize would not apply."""
    problems = []
    resources, referenced = [], set()
    for path in yaml_files(root):
        try:
            ds = docs(path)
        except yaml.YAMLError as e:
            problems.append(f"{path}: not valid YAML: {e}")
            continue
        if not ds:
            problems.append(f"{path}: holds no YAML document")
        elif any(is_kustomization(d) for d in ds):
            k = ds[0]
            base = os.path.dirname(path)
            entries = list(k.get("resources", [])) + list(k.get("components", []))
            entries += [p["path"] for p in k.get("patches", []) if "path" in p]
            for entry in entries:
                if "://" in entry or "?ref=" in entry or entry.startswith("github.com/"):
                    continue  # a remote base, fetched by the renderer
                target = os.path.normpath(os.path.join(base, entry))
                if not os.path.exists(target):
                    problems.append(f"{path}: lists '{entry}', which does not exist")
                referenced.add(target)
        elif all(is_resource(d) for d in ds):
            resources.append(path)
        elif all(isinstance(d, list) for d in ds):
            pass  # a JSON 6902 patch, checked when rendered
        else:
            problems.append(
                f"{path}: neither Kubernetes resources (apiVersion and kind), "
                "a kustomization nor a JSON patch"
            )
    for path in resources:
        if os.path.normpath(path) not in referenced:
            problems.append(
                f"{path}: not listed in any kustomization.yaml, so "
                "`kubectl apply -k` would leave it out"
            )
    for p in problems:
        print(f"validate-manifests: {p}", file=sys.stderr)
    for path in resources:
        print(path)
    return 1 if problems else 0


def count(paths):
    print(sum(len(docs(p)) for p in paths))
    return 0


def server_args(paths):
    """Writes the kiss-server container's args and literal env, NUL-separated."""
    found = []
    for path in paths:
        for d in docs(path):
            if is_resource(d) and d["kind"] == "Deployment":
                for c in d["spec"]["template"]["spec"].get("containers", []):
                    if c.get("name") == "kiss-server":
                        found.append((path, c))
    if len(found) != 1:
        where = ", ".join(p for p, _ in found) or "none"
        print(
            "validate-manifests: expected exactly one Deployment container named "
            f"'kiss-server', found {len(found)} ({where})",
            file=sys.stderr,
        )
        return 1
    path, c = found[0]
    if c.get("command"):
        print(
            f"validate-manifests: {path}: the kiss-server container sets `command`; "
            "the image's entrypoint is the server, so only `args` are checked",
            file=sys.stderr,
        )
        return 1
    out = sys.stdout.buffer
    env = [e for e in c.get("env", []) if "value" in e]
    for e in env:
        out.write(f"{e['name']}={e['value']}".encode() + b"\0")
    out.write(b"--\0")
    for a in c.get("args", []):
        out.write(str(a).encode() + b"\0")
    return 0


if __name__ == "__main__":
    cmd, rest = sys.argv[1], sys.argv[2:]
    sys.exit({"classify": classify, "count": count, "server-args": server_args}[cmd](
        rest[0] if cmd == "classify" else rest
    ))
PY
py() { .venv/bin/python "$work/manifests.py" "$@"; }

validate() { # validate LABEL FILE...
  local label=$1; shift
  local v
  for v in $KUBE_VERSIONS; do
    if ! .venv/bin/kubernetes-validate --strict --quiet --kubernetes-version "$v" "$@"; then
      echo "validate-manifests: $label: invalid against the Kubernetes $v schemas (see above)" >&2
      return 1
    fi
  done
  echo "    $label: $(py count "$@") documents valid (strict) against Kubernetes ${KUBE_VERSIONS// /, }"
}

step "plain manifests in $DEPLOY_DIR"
py classify "$DEPLOY_DIR" >"$work/resources.txt"
mapfile -t resource_files <"$work/resources.txt"
if [ ${#resource_files[@]} -gt 0 ]; then
  validate "${#resource_files[@]} files" "${resource_files[@]}"
elif [ -e "$DEPLOY_DIR/kustomization.yaml" ]; then
  echo "    none: an overlay, checked once rendered"
else
  echo "validate-manifests: no Kubernetes resources found in $DEPLOY_DIR" >&2
  exit 1
fi
done_step

# --- 2. the rendered kustomizations ---------------------------------------------
render=()
if command -v kustomize >/dev/null 2>&1; then
  render=(kustomize build)
elif command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
  render=(kubectl kustomize)
fi
render_to() { # render_to DIR OUT
  if ! "${render[@]}" "$1" >"$2"; then
    echo "validate-manifests: '${render[*]} $1' failed (see above)" >&2
    return 1
  fi
}
rendered=() # LABEL=FILE of each rendered variant, for step 3
if [ ${#render[@]} -gt 0 ]; then
  step "rendered with '${render[*]}'"
  render_to "$DEPLOY_DIR" "$work/base.yaml"
  validate "$(basename "$DEPLOY_DIR")" "$work/base.yaml"
  rendered+=("$(basename "$DEPLOY_DIR")=$work/base.yaml")
  for comp in "$DEPLOY_DIR"/*/kustomization.yaml; do
    [ -e "$comp" ] || continue
    grep -q '^kind: Component' "$comp" || continue
    name=$(basename "$(dirname "$comp")")
    overlay="$work/with-$name"
    mkdir -p "$overlay"
    # kustomize refuses absolute paths here; relative ones may leave the root.
    rel=$(realpath --relative-to="$overlay" "$DEPLOY_DIR")
    printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - %s\ncomponents:\n  - %s/%s\n' \
      "$rel" "$rel" "$name" >"$overlay/kustomization.yaml"
    render_to "$overlay" "$work/with-$name.yaml"
    validate "base + $name" "$work/with-$name.yaml"
    rendered+=("base + $name=$work/with-$name.yaml")
  done
  done_step
elif [ ${#resource_files[@]} -eq 0 ]; then
  echo "validate-manifests: $DEPLOY_DIR holds only a kustomization; rendering it needs kustomize or kubectl" >&2
  exit 1
else
  echo "==> no kustomize or kubectl on PATH: validated the plain files only"
fi

# --- 3. the server's args ----------------------------------------------------------
bin=${KISS_SERVER_BIN:-}
if [ -z "$bin" ]; then
  # Always through cargo: a no-op when up to date, and never a stale binary.
  cargo build --quiet -p kiss-server --bin kiss-server
  bin=target/debug/kiss-server
fi
if ! "$bin" --help 2>/dev/null | grep -q -- '--check-config'; then
  echo "validate-manifests: $bin has no --check-config option; build a kiss-server that has it" >&2
  exit 1
fi
# Only the manifest's settings count: drop KISS_* variables (and KUBECONFIG)
# from this shell.
unset_kiss=(-u KUBECONFIG)
while IFS='=' read -r name _; do
  unset_kiss+=(-u "$name")
done < <(env | grep '^KISS_' || true)

check_args() { # check_args LABEL FILE...
  local label=$1; shift
  py server-args "$@" >"$work/server-args"
  local extracted=() env_pairs=() server_args=() seen_sep=0 item i flag path
  mapfile -d '' -t extracted <"$work/server-args"
  for item in "${extracted[@]}"; do
    if [ $seen_sep -eq 0 ]; then
      if [ "$item" = "--" ]; then seen_sep=1; else env_pairs+=("$item"); fi
    else
      server_args+=("$item")
    fi
  done

  # TLS files come from a Secret mounted at run time; where they don't exist
  # here, stand in a throwaway self-signed pair so the rest is still checked.
  for i in "${!server_args[@]}"; do
    case "${server_args[$i]}" in
      --tls-cert=* | --tls-key=*)
        flag=${server_args[$i]%%=*} path=${server_args[$i]#*=}
        [ -e "$path" ] && continue
        if [ ! -e "$work/tls.cert" ]; then
          openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
            -subj /CN=validate-manifests -keyout "$work/tls.key" -out "$work/tls.cert" 2>/dev/null
        fi
        echo "    $label: $flag: $path is mounted at run time; checking with a throwaway ${flag#--tls-} instead"
        server_args[i]="$flag=$work/tls.${flag#--tls-}"
        ;;
    esac
  done

  # The Kubernetes modes use the pod's service account, which only exists in
  # a pod: without --kubeconfig, stand in a kubeconfig (--check-config reads
  # it and sends nothing) so the rest is still checked.
  local kube_mode=0 kubeconfig_given=0 prev=
  for item in "${env_pairs[@]}" "${server_args[@]}"; do
    case "$item" in
      KISS_AUTHORIZATION=kubernetes | KISS_AUTHORIZATION=rolebinding | KISS_ROLEBINDING_PREFIX=*) kube_mode=1 ;;
      --authorization=kubernetes | --authorization=rolebinding) kube_mode=1 ;;
      --rolebinding-prefix | --rolebinding-prefix=* | -rolebinding-prefix | -rolebinding-prefix=*) kube_mode=1 ;;
      kubernetes | rolebinding) [ "$prev" = --authorization ] && kube_mode=1 ;;
      KISS_KUBECONFIG=* | --kubeconfig | --kubeconfig=* | -kubeconfig-path | -kubeconfig-path=* | --kubeconfig-path | --kubeconfig-path=*) kubeconfig_given=1 ;;
    esac
    prev=$item
  done
  local kube_env=()
  if [ $kube_mode -eq 1 ] && [ $kubeconfig_given -eq 0 ]; then
    if [ ! -e "$work/kubeconfig" ]; then
      cat >"$work/kubeconfig" <<'KUBECONFIG'
apiVersion: v1
kind: Config
clusters:
  - name: validate-manifests
    cluster:
      server: https://127.0.0.1:6443
users:
  - name: validate-manifests
    user:
      token: validate-manifests
contexts:
  - name: validate-manifests
    context:
      cluster: validate-manifests
      user: validate-manifests
current-context: validate-manifests
KUBECONFIG
    fi
    echo "    $label: the pod's service account exists only in a pod; checking with a stand-in kubeconfig instead"
    kube_env=("KUBECONFIG=$work/kubeconfig")
  fi

  printf '    %s: args:' "$label"; printf ' %q' "${server_args[@]}"; echo
  local rc
  set +e
  env "${unset_kiss[@]}" "${env_pairs[@]}" "${kube_env[@]}" timeout 60 "$bin" --check-config "${server_args[@]}"
  rc=$?
  set -e
  if [ $rc -eq 124 ]; then
    echo "validate-manifests: $label: '$bin --check-config' did not exit within 60 s; it must check the flags and exit without serving" >&2
    return 1
  elif [ $rc -ne 0 ]; then
    echo "validate-manifests: $label: kiss-server rejected the Deployment's args (exit $rc, see above)" >&2
    return 1
  fi
}

step "kiss-server --check-config with the Deployment's args"
if [ ${#rendered[@]} -gt 0 ]; then
  for item in "${rendered[@]}"; do
    check_args "${item%%=*}" "${item#*=}"
  done
else
  check_args "$(basename "$DEPLOY_DIR")" "${resource_files[@]}"
fi
done_step
echo "validate-manifests: all checks passed"

#!/usr/bin/env bash
# Build the base images used by example pipelines and tests, without any registry:
#   airflow-pachyderm/python:latest          Debian bookworm minbase + python3 + coreutils
#   airflow-pachyderm/python-sklearn:latest  the above + numpy, pandas, scikit-learn, joblib
# The root filesystems come from debootstrap against the machine's own Debian mirror and are
# loaded with `docker import`. Existing images are kept unless --force is given.
#
# Usage: docker/build-images.sh [--force] [--only python|python-sklearn]
set -euo pipefail

PY_IMAGE="airflow-pachyderm/python:latest"
SK_IMAGE="airflow-pachyderm/python-sklearn:latest"
SUITE="${SUITE:-bookworm}"
PY_PACKAGES="python3,coreutils,ca-certificates"
SK_PACKAGES="python3-numpy python3-pandas python3-sklearn python3-joblib"

force=0
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --only) only="${2:?--only needs python or python-sklearn}"; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "build-images.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$only" in ""|python|python-sklearn) ;; *)
  echo "build-images.sh: --only must be 'python' or 'python-sklearn', not '$only'" >&2; exit 2 ;;
esac

die() { echo "build-images.sh: $*" >&2; exit 1; }

command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed (needed for 'docker import')"
docker info >/dev/null 2>&1 || die "cannot reach the Docker daemon (is it running, may this user use it?)"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (apt-get install debootstrap)"
[ "$(id -u)" = 0 ] || die "debootstrap and chroot need root; run with sudo"

# The mirror is whatever this machine already uses for apt: deb822 sources first, then the
# classic one-line format. Security and update suites are skipped; only the main archive works
# with debootstrap.
find_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    while read -r uri; do
      case "$uri" in *security*) continue ;; esac
      echo "$uri"; return 0
    done < <(sed -n 's/^URIs:[[:space:]]*//p' "$f" | tr ' ' '\n' | sed '/^$/d')
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f" \
      | grep -v security | head -n1 || true)
    [ -n "$uri" ] && { echo "$uri"; return 0; }
  done
  return 1
}
MIRROR="$(find_mirror)" || die "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"

have_image() { docker image inspect "$1" >/dev/null 2>&1; }
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }

need_py=0; need_sk=0
if want python && { [ "$force" = 1 ] || ! have_image "$PY_IMAGE"; }; then need_py=1; fi
if want python-sklearn && { [ "$force" = 1 ] || ! have_image "$SK_IMAGE"; }; then need_sk=1; fi
if [ "$need_py" = 0 ] && [ "$need_sk" = 0 ]; then
  echo "images already present (use --force to rebuild)"; exit 0
fi

WORK="$(mktemp -d /var/tmp/airflow-pachyderm-images.XXXXXX)"
MOUNTED=""
cleanup() {
  # Unmount before deleting: rm -rf through a live /proc or /dev bind would be disastrous.
  local m
  for m in $MOUNTED; do umount -l "$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

import_rootfs() {  # import_rootfs DIR IMAGE
  local dir="$1" image="$2"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/tmp/* || true
  echo "==> importing $image"
  tar --numeric-owner -C "$dir" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PYTHONDONTWRITEBYTECODE=1' \
    --change 'WORKDIR /' \
    --change 'CMD ["python3"]' \
    - "$image" >/dev/null
}

start=$(date +%s)
ROOT="$WORK/python"
echo "==> debootstrap $SUITE (minbase + $PY_PACKAGES) from $MIRROR"
debootstrap --variant=minbase --include="$PY_PACKAGES" "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
  || { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
chroot "$ROOT" timeout --version >/dev/null || die "coreutils 'timeout' missing from the rootfs"
chroot "$ROOT" python3 -c 'import sys; assert sys.version_info >= (3, 8)' || die "python3 does not run in the rootfs"
echo "    debootstrap took $(( $(date +%s) - start )) s"

if [ "$need_sk" = 1 ]; then
  # Copy the python rootfs and add the scientific stack with apt inside a chroot: one
  # debootstrap instead of two.
  SK="$WORK/python-sklearn"
  cp -a "$ROOT" "$SK"
  for m in proc dev; do
    mount --bind "/$m" "$SK/$m"; MOUNTED="$SK/$m $MOUNTED"
  done
  cp /etc/resolv.conf "$SK/etc/resolv.conf" 2>/dev/null || true
  printf '#!/bin/sh\nexit 101\n' > "$SK/usr/sbin/policy-rc.d"; chmod 755 "$SK/usr/sbin/policy-rc.d"
  echo "==> apt-get install $SK_PACKAGES"
  t=$(date +%s)
  chroot "$SK" env DEBIAN_FRONTEND=noninteractive sh -c \
    "apt-get update -q && apt-get install -y -q --no-install-recommends $SK_PACKAGES" \
    >"$WORK/apt.log" 2>&1 || { tail -n 30 "$WORK/apt.log" >&2; die "apt-get install in the sklearn rootfs failed"; }
  for m in $MOUNTED; do umount -l "$m"; done
  MOUNTED=""
  rm -f "$SK/usr/sbin/policy-rc.d"
  : > "$SK/etc/resolv.conf"
  chroot "$SK" python3 -c 'import numpy, pandas, sklearn, joblib' || die "sklearn stack does not import"
  echo "    apt-get install took $(( $(date +%s) - t )) s"
  import_rootfs "$SK" "$SK_IMAGE"
fi
if [ "$need_py" = 1 ]; then
  : > "$ROOT/etc/resolv.conf"
  import_rootfs "$ROOT" "$PY_IMAGE"
fi
echo "==> done in $(( $(date +%s) - start )) s"
docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep '^airflow-pachyderm/' || true

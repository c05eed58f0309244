#!/usr/bin/env bash
# Python 3.14 and 3.15 on this Debian machine: a Debian sid chroot, and the self-check in it.
#
#   bash .ci/sid-chroot.sh build              # debootstrap sid into $SID_ROOT (default /srv/sid), ~2 min
#   bash .ci/sid-chroot.sh selfcheck 3.14     # a clean clone of this repo's HEAD, .ci/run with python3.14
#   bash .ci/sid-chroot.sh run CMD [ARGS...]  # any command in the chroot (no command: a shell)
#   bash .ci/sid-chroot.sh umount             # undo the mounts
#
# Needs root, debootstrap (installed if missing) and a Debian mirror. Not plain chroot: the
# kernel refuses new user namespaces (so bubblewrap, the batch sandbox) to a chrooted process, so
# `run` enters a private mount namespace whose root is the chroot (pivot_root), the host's root
# unmounted. The repository is bound read-only at the same path, to be cloned from.
set -euo pipefail
R=${SID_ROOT:-/srv/sid}
REPO=$(cd "$(dirname "$0")/.." && pwd)
PYTHONS="python3.14 python3.14-venv python3.15 python3.15-venv"
[ "$(id -u)" = 0 ] || { echo "sid-chroot: must run as root" >&2; exit 2; }

is_mnt() { mountpoint -q "$1"; }

mirror() {
    local found
    found=$(grep -hoE 'https?://[^ ]+/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | head -1 || true)
    echo "${found:-http://deb.debian.org/debian}"
}

build() {
    if [ ! -x "$R/bin/bash" ]; then
        command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
        debootstrap --variant=minbase sid "$R" "$(mirror)"
    fi
    mounts
    run_in apt-get -o Acquire::Check-Valid-Until=false update -qq  # sid's Release may be stale
    run_in apt-get install -y -qq --no-install-recommends $PYTHONS git bubblewrap ca-certificates procps >/dev/null
    for v in 3.14 3.15; do  # .ci/run and the Gradescope recipe run a bare python3
        mkdir -p "$R/opt/py$v/bin"
        printf '#!/bin/sh\nexec /usr/bin/python%s "$@"\n' "$v" > "$R/opt/py$v/bin/python3"
        chmod +x "$R/opt/py$v/bin/python3"
    done
    run_in python3.14 -VV
    run_in python3.15 -VV
}

mounts() {
    is_mnt "$R" || mount --bind "$R" "$R"  # bubblewrap fails unless the root is a mount point
    mkdir -p "$R/proc" "$R/sys" "$R/dev" "$R$REPO" "$R/run/async-kata-uids"
    is_mnt "$R/proc" || mount -t proc proc "$R/proc"
    is_mnt "$R/sys" || mount -t sysfs sysfs "$R/sys"
    is_mnt "$R/dev" || mount --bind /dev "$R/dev"
    is_mnt "$R/dev/pts" || mount --bind /dev/pts "$R/dev/pts"  # the terminal tests need a pty
    if is_mnt /dev/shm; then is_mnt "$R/dev/shm" || mount --bind /dev/shm "$R/dev/shm"; fi
    if ! is_mnt "$R$REPO"; then
        mount --bind "$REPO" "$R$REPO" && mount -o remount,bind,ro "$R$REPO"
    fi
    # Shared with the host, so batch sandboxes in the chroot and on the host never share a uid.
    mkdir -p /run/async-kata-uids
    is_mnt "$R/run/async-kata-uids" || mount --bind /run/async-kata-uids "$R/run/async-kata-uids"
    cp -f /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
    # The host's own CAs (a proxy's, say), through the chroot's ca-certificates so updates keep them.
    mkdir -p "$R/usr/local/share/ca-certificates"
    local changed=
    for crt in /usr/local/share/ca-certificates/*.crt; do
        [ -f "$crt" ] || continue
        cmp -s "$crt" "$R/usr/local/share/ca-certificates/${crt##*/}" && continue
        cp -f "$crt" "$R/usr/local/share/ca-certificates/" && changed=1
    done
    if [ -n "$changed" ] && [ -x "$R/usr/sbin/update-ca-certificates" ]; then
        chroot "$R" /usr/sbin/update-ca-certificates >/dev/null
    fi
}

run_in() {
    mkdir -p "$R/.oldroot"
    unshare --mount --propagation private -- /bin/sh -c '
        cd "$1" && pivot_root . .oldroot || { echo "sid-chroot: pivot_root failed" >&2; exit 125; }
        shift
        cd / && umount -l /.oldroot || { echo "sid-chroot: cannot unmount the host root" >&2; exit 125; }
        exec /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 ${CI:+CI=$CI} \
            PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
    ' sid-chroot "$R" "$@"
}

case "${1-}" in
    build) build ;;
    selfcheck)
        v=${2:?usage: sid-chroot.sh selfcheck 3.14|3.15}
        [ -x "$R/opt/py$v/bin/python3" ] || { echo "sid-chroot: no Python $v here: run build first" >&2; exit 2; }
        mounts
        clone=/tmp/kata-py$v
        CI=true run_in /bin/sh -c "rm -rf $clone && git clone -q $REPO $clone && cd $clone && PATH=/opt/py$v/bin:\$PATH bash .ci/run"
        ;;
    run) shift; mounts; [ $# -gt 0 ] || set -- bash -l; run_in "$@" ;;
    umount)
        for m in run/async-kata-uids "${REPO#/}" dev/shm dev/pts dev sys proc; do
            if is_mnt "$R/$m"; then umount -l "$R/$m"; fi
        done
        if is_mnt "$R"; then umount -l "$R"; fi
        ;;
    *) echo "usage: sid-chroot.sh build | selfcheck 3.14|3.15 | run [CMD...] | umount" >&2; exit 2 ;;
esac

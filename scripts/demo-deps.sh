#!/usr/bin/env bash
# What `make demo` needs from a fresh Debian or Ubuntu machine, from its packages:
#   bubblewrap    the sandbox every build and every match runs in
#   libseccomp2   the sandbox's syscall filter
#   python3-venv  only while no uv is at hand: Debian's python3 comes without pip and
#                 ensurepip, and `make setup` installs uv into a virtual environment of its own
# Run as root, it installs what is missing; otherwise it stops at once with the command to run.
#
#   scripts/demo-deps.sh           install what is missing (root), or say how and exit 1
#   scripts/demo-deps.sh --check   only print what is missing and the command; exit 1 if any
#
# PYTHON names the interpreter `make` uses (python3 by default).
set -euo pipefail

PYTHON=${PYTHON:-python3}
TOOLS=${TOOLS:-.tools}
check_only=false
case "${1:-}" in
    --check) check_only=true ;;
    "") ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

has_libseccomp() {
    local found
    for found in /usr/lib/*/libseccomp.so.2 /lib/*/libseccomp.so.2 /usr/lib64/libseccomp.so.2 \
        /usr/lib/libseccomp.so.2; do
        [ -e "$found" ] && return 0
    done
    return 1
}

has_uv() {
    "$PYTHON" -m uv --version >/dev/null 2>&1 || [ -x "$TOOLS/bin/uv" ]
}

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "$PYTHON is not installed: sudo apt-get install python3 python3-venv" >&2
    exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "botarena needs Python 3.11 or later as $PYTHON; install one (on Ubuntu 22.04:" \
        "sudo apt-get install python3.11 python3.11-venv) and run: make demo PYTHON=python3.11" >&2
    exit 1
fi

missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
has_libseccomp || missing+=(libseccomp2)
has_uv || "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)

if [ ${#missing[@]} -eq 0 ]; then
    $check_only && echo "nothing missing"
    exit 0
fi

if [ "$(id -u)" = 0 ]; then
    command="apt-get update && apt-get install -y ${missing[*]}"
else
    command="sudo apt-get update && sudo apt-get install -y ${missing[*]}"
fi
if ! command -v apt-get >/dev/null 2>&1; then
    command="install ${missing[*]} (or your system's packages of the same name)"
fi

if $check_only; then
    echo "missing: ${missing[*]}"
    echo "command: $command"
    exit 1
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing what the demo needs: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    exit 0
fi
echo "The demo needs: ${missing[*]}. Run:" >&2
echo "  $command" >&2
echo "then make demo again." >&2
exit 1

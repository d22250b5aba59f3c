#!/usr/bin/env bash
# Runs a command with a real Secret Service: gnome-keyring, unlocked with a throwaway password,
# inside the current D-Bus session. Use under `dbus-run-session` so the keyring is private to
# this run and vanishes with it:
#
#   dbus-run-session -- tools/with-keyring.sh cargo test ...
set -euo pipefail
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || { echo "with-keyring.sh: no D-Bus session; run under dbus-run-session" >&2; exit 2; }
# A throwaway home for the keyring files, so a developer's own keyring is never touched.
export XDG_DATA_HOME="${XDG_DATA_HOME_FOR_KEYRING:-$(mktemp -d)}"
eval "$(printf 'stopover-test-keyring' | gnome-keyring-daemon --replace --unlock --components=secrets 2>/dev/null)"
export GNOME_KEYRING_CONTROL
exec "$@"

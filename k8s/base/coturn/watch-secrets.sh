#!/bin/sh
# The secrets-sync sidecar of the coturn pod: keeps coturn's TURN REST secrets (the turn_secret
# table of its userdb) equal to the mounted coturn-auth Secret, so a rotation is two edits of that
# Secret and no restart (docs/key-rotation.md). The kubelet replaces a mounted Secret's files in
# place (within about a minute of the edit); this polls the file's checksum every few seconds and
# runs sync-secrets.sh when it changes. A file that cannot be applied (unreadable, empty, a bad
# character) leaves coturn's secrets as they were, is reported once, and is tried again on each
# poll until it applies. Paths are overridable so k8s/coturn.test.ts runs this very script.
set -eu
file="${COTURN_SECRETS_FILE:-/etc/coturn/auth/secrets}"
db="${COTURN_DB:-/run/coturn/turndb}"
sync="${COTURN_SYNC_SCRIPT:-/etc/coturn/sync-secrets.sh}"
interval="${COTURN_SYNC_INTERVAL_S:-5}"
: "${COTURN_REALM:?COTURN_REALM (the realm in turnserver.conf) is required}"

applied=""
failed=""
while :; do
  current=$(cksum <"$file" 2>/dev/null) || current="unreadable"
  if [ "$current" != "$applied" ]; then
    if [ "$current" != "unreadable" ] && sh "$sync" "$file" "$db" "$COTURN_REALM"; then
      echo "watch-secrets: coturn accepts the $(grep -c . "$file") secret(s) of $file"
      applied="$current"
      failed=""
    elif [ "$current" != "$failed" ]; then
      echo "watch-secrets: $file not applied; coturn keeps its previous secrets" >&2
      failed="$current"
    fi
  fi
  sleep "$interval"
done

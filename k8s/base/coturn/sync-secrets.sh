#!/bin/sh
# Makes coturn's TURN REST secrets exactly the lines of a file: the current secret and, during a
# rotation, the previous one (docs/key-rotation.md). They live in the turn_secret table of coturn's
# SQLite userdb, which coturn reads on each authentication, so a change applies to the running
# server: no restart, no dropped allocation. Adds before it deletes, so there is never a moment
# without either secret. Run at start-up (before turnserver) and on every change of the file.
# usage: sync-secrets.sh <secrets file> <userdb file> <realm>
set -eu
file="$1"
db="$2"
realm="$3"
wanted=$(grep -v '^[[:space:]]*$' "$file" || true)
if [ -z "$wanted" ]; then
  echo "sync-secrets: $file holds no secret" >&2
  exit 1
fi
echo "$wanted" | while IFS= read -r secret; do
  case "$secret" in
  *[!A-Za-z0-9+/=_.-]*)
    echo "sync-secrets: a secret in $file holds characters other than A-Z a-z 0-9 + / = _ . -" >&2
    exit 1
    ;;
  esac
  turnadmin --set-secret="$secret" --realm="$realm" --userdb="$db" >/dev/null
done
turnadmin --show-secret --realm="$realm" --userdb="$db" 2>/dev/null |
  sed -n "s/^\(.*\)\[$realm\]\$/\1/p" |
  while IFS= read -r secret; do
    echo "$wanted" | grep -qxF -- "$secret" ||
      turnadmin --delete-secret="$secret" --realm="$realm" --userdb="$db" >/dev/null
  done

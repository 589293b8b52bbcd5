#!/bin/sh
# Builds coturn's effective config in a memory-backed emptyDir: the static turnserver.conf
# plus what only exists at run time: this node's IP and TLS if a certificate is mounted. The TURN
# REST secrets are not in it: they live in coturn's userdb (sync-secrets.sh, watch-secrets.sh),
# where they can change without a restart. Paths are overridable so k8s/coturn.test.ts runs this
# very script.
set -eu
template="${COTURN_TEMPLATE:-/etc/coturn/turnserver.conf}"
tls_dir="${COTURN_TLS_DIR:-/etc/coturn/tls}"
out="${COTURN_OUT:-/run/coturn/turnserver.conf}"
: "${NODE_IP:?NODE_IP (the node address, from the downward API) is required}"

umask 077
{
  cat "$template"
  echo
  echo "# --- rendered at start-up by render-config.sh ---"
  echo "listening-ip=$NODE_IP"
  echo "relay-ip=$NODE_IP"
  # Nodes behind 1:1 NAT (most clouds) must advertise their public address to clients.
  if [ -n "${EXTERNAL_IP:-}" ]; then echo "external-ip=$EXTERNAL_IP/$NODE_IP"; fi
  if [ -f "$tls_dir/tls.crt" ] && [ -f "$tls_dir/tls.key" ]; then
    echo "cert=$tls_dir/tls.crt"
    echo "pkey=$tls_dir/tls.key"
  else
    # No certificate mounted (dev clusters): plain TURN on 3478 only.
    echo "no-tls"
    echo "no-dtls"
  fi
} >"$out"

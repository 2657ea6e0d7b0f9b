#!/usr/bin/env bash
# Add (or update) a SCRAM-SHA-256 and SCRAM-SHA-512 credential for a user on a running broker,
# with Kafka's own ConfigCommand through a listener that needs no login:
#   infra/kafka/add-scram-user.sh <bootstrap host:port> <user> <password file> <kafka lib dir>
# The password is read from a file and passed on in 0600 files, never on a command line.
# One request per mechanism: the broker refuses two credentials of one user in one request
# ("A user credential cannot be altered twice in the same request").
set -euo pipefail
bootstrap="$1" user="$2" password_file="$3" lib="$4"
password="$(tr -d '\n' <"$password_file")"
case "$password" in *,* | *=* | *\]* | *\[*) echo "the SCRAM password may not hold , = [ or ]" >&2; exit 2 ;; esac
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
  # a properties file: no brackets (those are --add-config's list syntax)
  (umask 077 && printf '%s=password=%s\n' "$mechanism" "$password" >"$work/$mechanism.properties")
  java -Xmx128m -cp "$lib/*" kafka.admin.ConfigCommand --bootstrap-server "$bootstrap" --alter \
    --entity-type users --entity-name "$user" --add-config-file "$work/$mechanism.properties"
done

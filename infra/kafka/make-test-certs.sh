#!/usr/bin/env bash
# Makes a CA of its own and the certificates a local TLS broker and its clients need, for development
# and tests only (never for a real cluster):
#
#   bash infra/kafka/make-test-certs.sh <dir>
#
# <dir>/ca.crt                      the CA (clients trust it: KAFKA_TLS_CA)
# <dir>/broker.crt, broker.key      the broker's certificate (names DNS:localhost only, so a client that
#                                   dials 127.0.0.1 and checks the host name refuses it)
# <dir>/broker.p12                  the same as a PKCS12 keystore for the broker (password in store.password)
# <dir>/truststore.p12              the CA as a PKCS12 truststore (keytool), for brokers that check client certificates
# <dir>/client.crt, client.key      a client certificate (CN=booking-client) for KAFKA_TLS_CERT / KAFKA_TLS_KEY
#
# Idempotent: a directory that has them all is left as it is. Needs openssl and keytool (Java).
set -euo pipefail

dir=${1:?usage: make-test-certs.sh <dir>}
mkdir -p "$dir"
cd "$dir"
if [[ -s ca.crt && -s broker.p12 && -s truststore.p12 && -s client.key && -s store.password ]]; then
  exit 0
fi
command -v openssl >/dev/null || { echo "make-test-certs: openssl is missing (apt-get install -y openssl)" >&2; exit 1; }
command -v keytool >/dev/null || { echo "make-test-certs: keytool is missing (it comes with Java: apt-get install -y openjdk-17-jre-headless)" >&2; exit 1; }
umask 077
rm -f ca.* broker.* client.* truststore.p12 store.password

openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=booking kafka test CA" -keyout ca.key -out ca.crt 2>/dev/null

sign() { # name subject extensions
  openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
sign broker "/CN=localhost" $'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth'
sign client "/CN=booking-client" 'extendedKeyUsage=clientAuth'

# A random store password, never written anywhere but here.
openssl rand -hex 16 >store.password
openssl pkcs12 -export -name broker -in broker.crt -inkey broker.key -certfile ca.crt \
  -passout "file:store.password" -out broker.p12
keytool -importcert -noprompt -alias ca -file ca.crt -keystore truststore.p12 -storetype PKCS12 \
  -storepass "$(cat store.password)" >/dev/null 2>&1
rm -f ca.key ca.srl
chmod 644 ca.crt broker.crt client.crt

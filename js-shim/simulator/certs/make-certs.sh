#!/bin/sh
# Regenerates the TEST-ONLY certificates of the Qualys simulator: a throw-away CA and a server
# certificate for 127.0.0.1 / localhost signed by it, valid 20 years. The CA key is deleted
# after signing, so nothing else can ever be signed by this CA.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DAYS=7300

openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ca-key.pem"
openssl req -x509 -new -key "$tmp/ca-key.pem" -sha256 -days "$DAYS" \
  -subj "/O=qualys-vm-transporter simulator/CN=Qualys Simulator TEST-ONLY CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca-cert.pem

openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/key.pem"
openssl pkcs8 -topk8 -nocrypt -in "$tmp/key.pem" -out server-key.pem
openssl req -new -key server-key.pem -subj "/O=qualys-vm-transporter simulator/CN=localhost" -out "$tmp/server.csr"
cat > "$tmp/ext.cnf" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EXT
openssl x509 -req -in "$tmp/server.csr" -CA ca-cert.pem -CAkey "$tmp/ca-key.pem" -CAcreateserial \
  -CAserial "$tmp/ca.srl" -days "$DAYS" -sha256 -extfile "$tmp/ext.cnf" -out server-cert.pem
echo "wrote ca-cert.pem server-key.pem server-cert.pem in $(pwd)"

#!/usr/bin/env bash
# shellcheck shell=bash
# The throw-away PKI of every test, benchmark and the demo: P-256 keys and certificates made
# with the openssl command line, and CRLs from a minimal `openssl ca` database.
#
# Sourced (shell):
#   . tests/lib/pki.sh
#   pki_ca DIR NAME CN                   DIR/NAME.{key,crt}, an empty CRL DIR/NAME.crl
#   pki_issue DIR CA NAME CN server|client   DIR/NAME.{key,crt}, signed by CA (EKU by role)
#   pki_revoke DIR CA NAME               revokes DIR/NAME.crt, rewrites DIR/CA.crl
#   pki_standard DIR [CLIENT...]         the usual set: CA "ca" (CN dm-ca) with "server" and
#                                        "client" (+ CLIENTs) as CN dm-<name>; a foreign CA
#                                        "other-ca" with a client "stranger"
# Executed (for the TypeScript tests): tests/lib/pki.sh ca|issue|revoke|standard ARGS...
# Every function returns non-zero, with openssl's message on stderr, if a step fails.

PKI_DAYS=${PKI_DAYS:-30}

_pki_openssl() {
	local out
	out=$(openssl "$@" 2>&1) || { echo "pki: openssl $1: ${out##*$'\n'}" >&2; return 1; }
}

pki_ca() { # DIR NAME CN
	local d=$1 n=$2
	_pki_openssl ecparam -name prime256v1 -genkey -noout -out "$d/$n.key" &&
		_pki_openssl req -x509 -new -key "$d/$n.key" -sha256 -days "$PKI_DAYS" -subj "/CN=$3" \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out "$d/$n.crt" || return 1
	: >"$d/$n-index.txt"
	printf '[ca]\ndefault_ca=dm\n[dm]\ndatabase=%s\ncertificate=%s\nprivate_key=%s\ndefault_md=sha256\ndefault_crl_days=%s\n' \
		"$d/$n-index.txt" "$d/$n.crt" "$d/$n.key" "$PKI_DAYS" >"$d/$n-ca.cnf"
	_pki_openssl ca -config "$d/$n-ca.cnf" -gencrl -out "$d/$n.crl"
}

pki_issue() { # DIR CA NAME CN server|client
	local d=$1 ca=$2 n=$3 eku
	case $5 in server) eku=serverAuth ;; client) eku=clientAuth ;; *) echo "pki: role '$5' is not server or client" >&2; return 2 ;; esac
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=%s\n' "$eku" >"$d/$n.ext"
	_pki_openssl ecparam -name prime256v1 -genkey -noout -out "$d/$n.key" &&
		_pki_openssl req -new -key "$d/$n.key" -subj "/CN=$4" -out "$d/$n.csr" &&
		_pki_openssl x509 -req -in "$d/$n.csr" -CA "$d/$ca.crt" -CAkey "$d/$ca.key" -CAcreateserial \
			-days "$PKI_DAYS" -sha256 -extfile "$d/$n.ext" -out "$d/$n.crt"
}

pki_revoke() { # DIR CA NAME
	local d=$1 ca=$2
	_pki_openssl ca -config "$d/$ca-ca.cnf" -revoke "$d/$3.crt" &&
		_pki_openssl ca -config "$d/$ca-ca.cnf" -gencrl -out "$d/$ca.crl"
}

pki_standard() { # DIR [CLIENT...]
	local d=$1 n; shift
	pki_ca "$d" ca dm-ca && pki_ca "$d" other-ca dm-other-ca && pki_issue "$d" ca server dm-server server || return 1
	for n in client "$@"; do pki_issue "$d" ca "$n" "dm-$n" client || return 1; done
	pki_issue "$d" other-ca stranger dm-stranger client
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	cmd=${1:-}; shift || true
	case $cmd in
	ca | issue | revoke | standard) "pki_$cmd" "$@" ;;
	*) echo "usage: $0 ca DIR NAME CN | issue DIR CA NAME CN server|client | revoke DIR CA NAME | standard DIR [CLIENT...]" >&2; exit 2 ;;
	esac
fi

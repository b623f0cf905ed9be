#!/bin/sh
# Writes the table of CKR_ names from p11-kit's pkcs11.h, so that every
# PKCS#11 error is shown by its name without a hand-kept list that could go
# stale. Usage: gen-p11-names.sh PKCS11_H > p11_names.inc
set -eu
header=$1
sed -n 's/^#define[[:space:]]\{1,\}\(CKR_[A-Z0-9_]*\)[[:space:]]\{1,\}(.*/\1/p' "$header" |
	grep -v '^CKR_VENDOR_DEFINED$' |
	while read -r name; do
		printf '\t{%s, "%s"},\n' "$name" "$name"
	done

#!/bin/sh
# Writes src/common/keyset_default.json as one C string literal, so the
# built-in key set is the default file itself, never a second copy kept by
# hand. Usage: gen-keyset-default.sh keyset_default.json > keyset_default.inc
set -eu
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$1"

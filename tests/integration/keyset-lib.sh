# Sourced by t-keyset.sh and bench/keyset.sh after lib.sh: a generated
# per-device key set (docs/formats/keyset.md).
#
# keyset_file DEVICES OUT [ALGORITHM]: DEVICES devices (d001, d002, ...) of
# 10 keys each under devices/<codename>/ (nine of ALGORITHM, default
# rsa-2048, and one EC key, attestation: P-384 for d001, P-256 for the
# others; testkey is for development only), plus the manifest and audit
# authorities' keys.
KEYSET_DEVICE_KEYS="platform media shared networkstack sdk_sandbox bluetooth testkey avb ota"
keyset_file() {
	local devices=$1 out=$2 algorithm=${3:-rsa-2048} d name ec sep=""
	{
		printf '{\n  "format": "rombsr.keyset",\n  "version": 1,\n  "keys": [\n'
		for d in $(seq -f 'd%03g' 1 "$devices"); do
			for name in $KEYSET_DEVICE_KEYS; do
				printf '%s    {"label": "devices/%s/%s", "algorithm": "%s", "authority": "release", ' \
					"$sep" "$d" "$name" "$algorithm"
				[ "$name" != testkey ] || printf '"development": true, '
				printf '"purpose": "%s %s"}' "$d" "$name"
				sep=$',\n'
			done
			ec=ec-p256
			[ "$d" != d001 ] || ec=ec-p384
			printf '%s    {"label": "devices/%s/attestation", "algorithm": "%s", "authority": "release", ' \
				"$sep" "$d" "$ec"
			printf '"purpose": "%s attestation"}' "$d"
		done
		printf '%s    {"label": "manifest", "algorithm": "ec-p256", "authority": "manifest", "purpose": "OTA manifests"}' "$sep"
		printf '%s    {"label": "audit", "algorithm": "ec-p256", "authority": "audit", "purpose": "audit checkpoints"}\n  ]\n}\n' "$sep"
	} > "$out"
}

# keyset_nodes FILE: every node config with_queue makes (node_config, from
# queue-lib.sh) reads the key set FILE too. Call before with_queue.
keyset_nodes() {
	KEYSET_NODES_FILE=$1
	eval "orig_$(declare -f node_config)"
	node_config() {
		local f
		f=$(orig_node_config "$@")
		printf '[keyset]\n\tfile = %s\n' "$KEYSET_NODES_FILE" >> "$f"
		printf '%s' "$f"
	}
}

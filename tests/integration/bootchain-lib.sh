# Sourced by t-capture-bootchain.sh and t-server-routes.sh: the FIT image
# both sign (docs/bootchain-tools.md) and reading its signatures back.

# fit_its KERNEL LABEL OUT: an image tree source with a kernel image
# signature and a configuration signature, both naming key LABEL; the
# device tree is $T/board.dtb.
fit_its() {
	cat > "$3" <<ITS
/dts-v1/;
/ {
	description = "ROMbsr boot chain";
	#address-cells = <1>;
	images {
		kernel {
			data = /incbin/("$1");
			type = "kernel"; arch = "arm64"; os = "linux"; compression = "none";
			load = <0x80000>; entry = <0x80000>;
			hash-1 { algo = "sha256"; };
			signature-1 { algo = "sha256,rsa4096"; key-name-hint = "$2"; };
		};
		fdt-1 {
			data = /incbin/("$T/board.dtb");
			type = "flat_dt"; arch = "arm64"; compression = "none";
			hash-1 { algo = "sha256"; };
		};
	};
	configurations {
		default = "conf-1";
		conf-1 {
			kernel = "kernel"; fdt = "fdt-1";
			signature-1 { algo = "sha256,rsa4096"; key-name-hint = "$2"; sign-images = "kernel", "fdt"; };
		};
	};
};
ITS
}

# fdt_bytes FILE NODE PROP OUT: a property's bytes (fdtget prints them as hex).
fdt_bytes() {
	fdtget -t bx "$1" "$2" "$3" | python3 -c 'import sys
sys.stdout.buffer.write(bytes(int(x, 16) for x in sys.stdin.read().split()))' > "$4"
}

# split_module SIGNED CONTENT_OUT SIG_OUT: what module_sig_check() reads,
# content | PKCS#7 | struct module_signature (12 bytes, sig_len big-endian
# at its end) | "~Module signature appended~\n" (docs/bootchain-tools.md).
split_module() {
	python3 - "$@" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
marker = b"~Module signature appended~\n"
if not data.endswith(marker):
    sys.exit("no module signature marker")
algo, hash_, id_type, signer_len, key_id_len, sig_len = struct.unpack(">BBBBB3xI", data[-len(marker) - 12:-len(marker)])
if id_type != 2:
    sys.exit("id_type %d is not PKEY_ID_PKCS7" % id_type)
end = len(data) - len(marker) - 12
open(sys.argv[2], "wb").write(data[:end - sig_len])
open(sys.argv[3], "wb").write(data[end - sig_len:end])
PY
}

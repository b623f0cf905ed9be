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

# Boot-chain tools, unmodified (Debian 12), through the capture module and
# the real sign node (docs/bootchain-tools.md): U-Boot mkimage signing a FIT
# (image and configuration signatures, the public key put into a dtb with
# -K), sbsign signing an EFI application, a kernel module signature made by
# openssl cms and appended by sign-file -s, and SWUpdate's CMS signature of
# sw-description. Each tool: capture -> rombsr submit -> rombsr-sign sign
# --once -> rombsr apply, again with the signatures known so far until a
# capture adds nothing (the number of rounds), then a replay run; its output
# is checked by a verifier that is not ROMbsr (openssl with fdtget, sbverify,
# openssl cms), and bad inputs fail.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/bootchain-lib.sh"

for tool in mkimage fdtget dtc sbsign sbverify sbattach faketime ld; do
	command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps.sh)"
done
SIGN_FILE=/usr/lib/linux-kbuild-6.1/scripts/sign-file
[ -x "$SIGN_FILE" ] || fail "$SIGN_FILE is not installed (linux-kbuild-6.1)"

with_bundle
with_queue
sign_config
engine_config "$T/openssl.cnf"
LABEL=platform
URI="pkcs11:token=rombsr-capture;object=$LABEL;type=private"
CERT="$T/bundle/certs/$LABEL.pem"
openssl x509 -in "$CERT" -pubkey -noout > "$T/key.pub"
export SOURCE_DATE_EPOCH=1767225600 # 2026-01-01 00:00:00 UTC
FROZEN=$(date -u -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M:%S')

# tool CONFIG command...: a signing tool run against the capture module
# (no way to the token), the engine configured by $T/openssl.cnf; a tool
# that hangs is stopped.
tool() {
	local cfg=$1; shift
	capture_run "$cfg" timeout 300 env OPENSSL_CONF="$T/openssl.cnf" TZ=UTC "$@"
}

# rounds NAME RUN: RUN CONFIG OUT signs through the module with CONFIG,
# writing its output to OUT. Captures, submits, signs on the sign node and
# applies until a capture adds nothing; then replays into $T/NAME.out.
# The first capture's output is kept as $T/NAME.placeholder, each round's
# journal as $T/NAME.journal.N.
# Sets ROUNDS and SIGS (the merged signature set).
rounds() {
	local name=$1 run=$2 merge=() id
	ROUNDS=0 SIGS=
	while :; do
		rm -f "$T/journal.jsonl"
		capture_config "$T/$name.capture.conf" capture $SIGS
		"$run" "$T/$name.capture.conf" "$T/$name.ph" || fail "$name: capture run $((ROUNDS + 1)) failed"
		[ "$(journal_lines)" -gt 0 ] || break
		[ "$ROUNDS" -lt 4 ] || fail "$name: still capturing after 4 rounds"
		ROUNDS=$((ROUNDS + 1))
		# The last capture answers every operation: it is signed for real.
		[ "$ROUNDS" -gt 1 ] || cp "$T/$name.ph" "$T/$name.placeholder"
		cp "$T/journal.jsonl" "$T/$name.journal.$ROUNDS"
		echo "$name: round $ROUNDS: $(journal_lines) operations captured"
		id=$(submit_journal user) || fail "$name: submit"
		sign_once
		echo "$name: round $ROUNDS: $(cat "$T/pass.txt")"
		"$ROMBSR" --config "$BUILD_CONF" apply --request "$id" --bundle "$T/bundle" ${merge[@]+"${merge[@]}"} \
			--out "$T/$name.sigs.$ROUNDS" >/dev/null || fail "$name: apply of round $ROUNDS"
		SIGS="$T/$name.sigs.$ROUNDS"
		merge=(--merge "$SIGS")
	done
	[ "$ROUNDS" -gt 0 ] || fail "$name: nothing was captured"
	capture_config "$T/$name.replay.conf" replay "$SIGS"
	"$run" "$T/$name.replay.conf" "$T/$name.out" || fail "$name: replay failed"
	echo "ok: $name: $ROUNDS round(s), replayed"
}

# fdt_bytes FILE NODE PROP OUT: a property's bytes (fdtget prints them as hex).

# must_fail TEXT command...: fails, and its output (stdout and stderr) holds TEXT.
must_fail() {
	local want=$1 rc=0; shift
	"$@" >"$T/mf.out" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || fail "expected failure of: $*"
	grep -qF -- "$want" "$T/mf.out" || fail "failure of '$*' lacks '$want': $(head -n 5 "$T/mf.out")"
	echo "ok: fails (exit $rc): $(grep -F -m 1 -- "$want" "$T/mf.out")"
}

# --- (a) U-Boot mkimage: a FIT with image and configuration signatures. ---
head -c 3000 /dev/urandom > "$T/kernel.bin"
printf '/dts-v1/;\n/ {\n\tmodel = "rombsr-board";\n};\n' | dtc -q -I dts -O dtb -o "$T/board.dtb" -
fit_its "$T/kernel.bin" "$LABEL" "$T/fit.its"
printf '/dts-v1/;\n/ {\n\tmodel = "rombsr-u-boot";\n\tsignature { };\n};\n' | dtc -q -I dts -O dtb -o "$T/u-boot.dtb" -
# -k is what mkimage puts before ";object=<key-name-hint>;type=private".
run_mkimage() { # CONFIG OUT
	cp "$T/u-boot.dtb" "$2.dtb"
	tool "$1" mkimage -f "$T/fit.its" -N pkcs11 -k 'token=rombsr-capture' -K "$2.dtb" -r "$2" >"$2.log" 2>&1 ||
		{ cat "$2.log" >&2; return 1; }
}
rounds mkimage run_mkimage
MKIMAGE_ROUNDS=$ROUNDS
[ "$ROUNDS" -eq 1 ] || fail "mkimage needed $ROUNDS rounds, not 1"
FIT="$T/mkimage.out"
# Two image signatures (mkimage signs the kernel again after growing the
# FIT) and one configuration signature, PKCS#1 v1.5 over a SHA-256 DigestInfo.
[ "$(grep -c '"mechanism":"CKM_RSA_PKCS","tbs":"3031300d060960864801650304020105000420' "$T/mkimage.journal.1")" -eq 3 ] ||
	fail "mkimage: not 3 CKM_RSA_PKCS operations over SHA-256 DigestInfos"
# Image signature: the image's data, nothing else.
fdt_bytes "$FIT" /images/kernel/signature-1 value "$T/kernel.sig"
fdt_bytes "$FIT" /images/kernel data "$T/kernel.data"
cmp -s "$T/kernel.data" "$T/kernel.bin" || fail "the FIT's kernel is not the input"
openssl dgst -sha256 -verify "$T/key.pub" -signature "$T/kernel.sig" "$T/kernel.data" >/dev/null ||
	fail "the FIT image signature does not verify"
# Configuration signature: the regions hashed-nodes and hashed-strings name.
python3 "$TOP/tests/tools/fit-config-regions.py" "$FIT" /configurations/conf-1/signature-1 "$T/conf.tbs"
fdt_bytes "$FIT" /configurations/conf-1/signature-1 value "$T/conf.sig"
openssl dgst -sha256 -verify "$T/key.pub" -signature "$T/conf.sig" "$T/conf.tbs" >/dev/null ||
	fail "the FIT configuration signature does not verify"
# The placeholder FIT does not verify.
fdt_bytes "$T/mkimage.placeholder" /images/kernel/signature-1 value "$T/ph.sig"
must_fail "Verification failure" openssl dgst -sha256 -verify "$T/key.pub" -signature "$T/ph.sig" "$T/kernel.bin"
# -K: the dtb holds the bundle key, required for the configuration.
fdt_bytes "$FIT.dtb" /signature/key-$LABEL rsa,modulus "$T/dtb.modulus"
[ "$(od -An -tx1 -v "$T/dtb.modulus" | tr -d ' \n')" = "$(openssl x509 -in "$CERT" -noout -modulus | cut -d= -f2 | tr 'A-F' 'a-f')" ] ||
	fail "the dtb's rsa,modulus is not the bundle key's"
[ "$(fdtget "$FIT.dtb" /signature/key-$LABEL required)" = conf ] || fail "the dtb key is not required for configurations"
[ "$(fdtget "$FIT.dtb" /signature/key-$LABEL algo)" = sha256,rsa4096 ] || fail "the dtb key's algo"
echo "ok: mkimage: image and configuration signatures verify with openssl; the dtb holds the key"
# Deterministic: a second replay makes the same bytes.
run_mkimage "$T/mkimage.replay.conf" "$T/fit2.itb" || fail "second mkimage replay"
cmp -s "$FIT" "$T/fit2.itb" || fail "two mkimage replays differ"
# Bad inputs: a changed kernel has no signature; a changed FIT does not verify;
# without SOURCE_DATE_EPOCH the FIT's timestamp (hashed by the configuration
# signature) changes, and replay finds none.
head -c 3000 /dev/urandom > "$T/kernel2.bin"
fit_its "$T/kernel2.bin" "$LABEL" "$T/fit.its"
must_fail "replay: no signature for key '$LABEL'" run_mkimage "$T/mkimage.replay.conf" "$T/bad.itb"
fit_its "$T/kernel.bin" "$LABEL" "$T/fit.its"
cp "$FIT" "$T/tampered.itb"
fdtput -t s "$T/tampered.itb" /images/kernel description "a kernel nobody signed"
python3 "$TOP/tests/tools/fit-config-regions.py" "$T/tampered.itb" /configurations/conf-1/signature-1 "$T/conf2.tbs"
must_fail "Verification failure" openssl dgst -sha256 -verify "$T/key.pub" -signature "$T/conf.sig" "$T/conf2.tbs"
flip_byte "$T/kernel.data" 100
must_fail "Verification failure" openssl dgst -sha256 -verify "$T/key.pub" -signature "$T/kernel.sig" "$T/kernel.data"
sleep 1 # the timestamp is in seconds
cp "$T/u-boot.dtb" "$T/notime.dtb"
must_fail "replay: no signature for key '$LABEL'" tool "$T/mkimage.replay.conf" env -u SOURCE_DATE_EPOCH \
	mkimage -f "$T/fit.its" -N pkcs11 -k 'token=rombsr-capture' -K "$T/notime.dtb" -r "$T/notime.itb"
# RSA-PSS (padding = "pss"): libp11 asks for CKM_RSA_PKCS_PSS with the
# largest salt (478 bytes for RSA-4096), which U-Boot's verifier finds by
# itself; the random salt is the HSM's, so replays still agree.
sed 's/algo = "sha256,rsa4096"; key-name-hint/algo = "sha256,rsa4096"; padding = "pss"; key-name-hint/' "$T/fit.its" \
	> "$T/fit-pss.its"
run_mkimage_pss() { # CONFIG OUT
	tool "$1" mkimage -f "$T/fit-pss.its" -N pkcs11 -k 'token=rombsr-capture' "$2" >"$2.log" 2>&1 ||
		{ cat "$2.log" >&2; return 1; }
}
rounds mkimage-pss run_mkimage_pss
[ "$ROUNDS" -eq 1 ] || fail "mkimage (PSS) needed $ROUNDS rounds, not 1"
grep -q '"mechanism":"CKM_RSA_PKCS_PSS","pss":{"hash":"CKM_SHA256","mgf":"CKG_MGF1_SHA256","salt_len":478}' \
	"$T/mkimage-pss.journal.1" || fail "mkimage (PSS): not CKM_RSA_PKCS_PSS with a 478-byte salt"
fdt_bytes "$T/mkimage-pss.out" /images/kernel/signature-1 value "$T/pss.sig"
openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:auto -verify "$T/key.pub" \
	-signature "$T/pss.sig" "$T/kernel.bin" >/dev/null || fail "the FIT PSS image signature does not verify"
python3 "$TOP/tests/tools/fit-config-regions.py" "$T/mkimage-pss.out" /configurations/conf-1/signature-1 "$T/pss.tbs"
fdt_bytes "$T/mkimage-pss.out" /configurations/conf-1/signature-1 value "$T/pss-conf.sig"
openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:auto -verify "$T/key.pub" \
	-signature "$T/pss-conf.sig" "$T/pss.tbs" >/dev/null || fail "the FIT PSS configuration signature does not verify"
must_fail "Verification failure" openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:auto \
	-verify "$T/key.pub" -signature "$T/pss.sig" "$T/kernel2.bin"
echo "ok: mkimage with RSA-PSS: both signatures verify with openssl"

# --- (b) sbsign: an EFI application (built here: PE32+, subsystem 10). ---
# Not in sanitized builds: libfaketime deadlocks at its start in the ASan
# runtime's allocator (its constructor's dlsym mallocs inside ASan's own
# initialisation); the other tools run the sanitized module.
sbsign_part() {
	printf 'unsigned long long efi_main(void *image, void *table) { (void)image; (void)table; return 0; }\n' > "$T/app.c"
	gcc -c -O2 -fno-ident -ffreestanding -fno-stack-protector -fno-asynchronous-unwind-tables -fpic -mno-red-zone \
		-o "$T/app.o" "$T/app.c"
	ld -s -m i386pep --subsystem 10 -e efi_main -o "$T/app.efi" "$T/app.o"
	objdump -p "$T/app.efi" > "$T/app.efi.txt" || fail "objdump of the EFI application"
	grep -q 'Subsystem.*(EFI application)' "$T/app.efi.txt" || fail "no EFI application: $(cat "$T/app.efi.txt")"
	# sbsign puts a signingTime into the signed attributes: the clock is frozen
	# at SOURCE_DATE_EPOCH so that capture and replay sign the same bytes.
	run_sbsign() { # CONFIG OUT
		tool "$1" faketime -f "$FROZEN" sbsign --engine pkcs11 --key "$URI" --cert "$CERT" --output "$2" "$T/app.efi" \
			>"$2.log" 2>&1 || { cat "$2.log" >&2; return 1; }
	}
	rounds sbsign run_sbsign
	SBSIGN_ROUNDS=$ROUNDS
	[ "$ROUNDS" -eq 1 ] || fail "sbsign needed $ROUNDS rounds, not 1"
	sbverify --cert "$CERT" "$T/sbsign.out" >/dev/null 2>&1 || fail "sbverify refuses the signed EFI application"
	sbattach --detach "$T/efi.p7" "$T/sbsign.out" >/dev/null 2>&1
	# Printed whole first: grep -q stopping early would fail openssl's write.
	openssl pkcs7 -inform DER -in "$T/efi.p7" -print > "$T/efi.p7.txt" || fail "openssl pkcs7 -print"
	grep -q "UTCTIME:Jan  1 00:00:00 2026 GMT" "$T/efi.p7.txt" || fail "the signingTime is not the frozen time"
	echo "ok: sbsign: sbverify --cert passes"
	must_fail "Signature verification failed" sbverify --cert "$T/bundle/certs/media.pem" "$T/sbsign.out"
	must_fail "Signature verification failed" sbverify --cert "$CERT" "$T/sbsign.placeholder"
	cp "$T/sbsign.out" "$T/tampered.efi"
	flip_byte "$T/tampered.efi" 1024 # .text
	must_fail "Signature verification failed" sbverify --cert "$CERT" "$T/tampered.efi"
	# Another time, another signingTime: nothing to replay.
	must_fail "replay: no signature for key '$LABEL'" tool "$T/sbsign.replay.conf" faketime -f "2026-01-02 00:00:00" \
		sbsign --engine pkcs11 --key "$URI" --cert "$CERT" --output "$T/late.efi" "$T/app.efi"
}
case "$(basename "$ROMBSR_BUILD")" in
*asan*) SBSIGN_ROUNDS="skipped (ASan)"; echo "skipped: sbsign under faketime in a sanitized build" ;;
*) sbsign_part ;;
esac

# --- (c) A kernel module signature: openssl cms makes what sign-file makes
# (CMS_NOCERTS|CMS_BINARY|CMS_NOATTR, detached, DER), sign-file -s appends it.
# Debian's sign-file opens pkcs11: keys through an OpenSSL *provider*
# (OSSL_PROVIDER_try_load(pkcs11)), which Debian 12 does not ship.
head -c 5000 /dev/urandom > "$T/module.ko"
must_fail "OSSL_PROVIDER_try_load(pkcs11)" tool "$T/mkimage.replay.conf" "$SIGN_FILE" sha256 "$URI" "$CERT" \
	"$T/module.ko" "$T/direct.ko"
run_modsign() { # CONFIG OUT
	tool "$1" openssl cms -sign -engine pkcs11 -keyform engine -inkey "$URI" -signer "$CERT" -in "$T/module.ko" \
		-binary -noattr -nocerts -md sha256 -outform DER -out "$2.p7s" >"$2.log" 2>&1 || { cat "$2.log" >&2; return 1; }
	"$SIGN_FILE" -s "$2.p7s" sha256 "$CERT" "$T/module.ko" "$2" || return 1
}
rounds modsign run_modsign
MODSIGN_ROUNDS=$ROUNDS
[ "$ROUNDS" -eq 1 ] || fail "the module signature needed $ROUNDS rounds, not 1"
split_module "$T/modsign.out" "$T/mod.content" "$T/mod.p7s"
cmp -s "$T/mod.content" "$T/module.ko" || fail "the signed module's content is not the module"
openssl cms -verify -binary -inform DER -in "$T/mod.p7s" -content "$T/mod.content" -certfile "$CERT" -CAfile "$CERT" \
	-out /dev/null 2>/dev/null || fail "the module signature does not verify"
echo "ok: module signature: openssl cms -verify passes"
split_module "$T/modsign.placeholder" "$T/ph.content" "$T/ph.p7s"
must_fail "Verification failure" openssl cms -verify -binary -inform DER -in "$T/ph.p7s" -content "$T/ph.content" \
	-certfile "$CERT" -CAfile "$CERT" -out /dev/null
flip_byte "$T/mod.content" 7
must_fail "Verification failure" openssl cms -verify -binary -inform DER -in "$T/mod.p7s" -content "$T/mod.content" \
	-certfile "$CERT" -CAfile "$CERT" -out /dev/null
must_fail "signer certificate not found" openssl cms -verify -binary -inform DER -in "$T/mod.p7s" -content "$T/module.ko" \
	-certfile "$T/bundle/certs/media.pem" -CAfile "$T/bundle/certs/media.pem" -out /dev/null

# --- (d) SWUpdate: sw-description signed with CMS as swugenerator and
# meta-swupdate do (-outform DER -nosmimecap -binary), plus -noattr: without
# it the signingTime makes every run sign other bytes.
cat > "$T/sw-description" <<'SWD'
software = {
	version = "1.0.0";
	images: ( { filename = "rootfs.ext4.gz"; device = "/dev/mmcblk0p2"; compressed = "zlib";
		sha256 = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"; } );
}
SWD
run_swupdate() { # CONFIG OUT
	tool "$1" openssl cms -sign -engine pkcs11 -keyform engine -inkey "$URI" -signer "$CERT" -in "$T/sw-description" \
		-outform DER -nosmimecap -binary -noattr -out "$2" >"$2.log" 2>&1 || { cat "$2.log" >&2; return 1; }
}
rounds swupdate run_swupdate
SWUPDATE_ROUNDS=$ROUNDS
[ "$ROUNDS" -eq 1 ] || fail "SWUpdate's signature needed $ROUNDS rounds, not 1"
openssl cms -verify -binary -inform DER -in "$T/swupdate.out" -content "$T/sw-description" -CAfile "$CERT" \
	-out /dev/null 2>/dev/null || fail "sw-description.sig does not verify"
echo "ok: SWUpdate: openssl cms -verify passes"
run_swupdate "$T/swupdate.replay.conf" "$T/sw2.sig" || fail "second SWUpdate replay"
cmp -s "$T/swupdate.out" "$T/sw2.sig" || fail "two SWUpdate replays differ"
must_fail "Verification failure" openssl cms -verify -binary -inform DER -in "$T/swupdate.placeholder" -content "$T/sw-description" \
	-CAfile "$CERT" -out /dev/null
sed 's/1.0.0/6.6.6/' "$T/sw-description" > "$T/sw-description.evil"
must_fail "Verification failure" openssl cms -verify -binary -inform DER -in "$T/swupdate.out" \
	-content "$T/sw-description.evil" -CAfile "$CERT" -out /dev/null
must_fail "replay: no signature for key '$LABEL'" tool "$T/swupdate.replay.conf" openssl cms -sign -engine pkcs11 \
	-keyform engine -inkey "$URI" -signer "$CERT" -in "$T/sw-description.evil" -outform DER -nosmimecap -binary -noattr \
	-out "$T/evil.sig"
# Without -noattr: signed attributes with a signingTime.
sleep 1
must_fail "replay: no signature for key '$LABEL'" tool "$T/swupdate.replay.conf" openssl cms -sign -engine pkcs11 \
	-keyform engine -inkey "$URI" -signer "$CERT" -in "$T/sw-description" -outform DER -nosmimecap -binary \
	-out "$T/attr.sig"

echo "rounds: mkimage $MKIMAGE_ROUNDS, sbsign $SBSIGN_ROUNDS, module $MODSIGN_ROUNDS, swupdate $SWUPDATE_ROUNDS"
echo "boot-chain tools ok"

# The signing server's artifact routes (docs/server.md, "Artifact routes"),
# through real TLS, called with curl -F as digsigserver's clients call it:
# /sign/modules, /sign/swupdate, /sign/tegra/uefi and /sign/fitimage; the unmodified tool runs on the sign node against the capture module,
# its operations are decided and signed as a request of the client, and
# the answer checked with the ecosystem's own verifier; each decision is
# in the audit log, which audit-verify matches to the clients list; bad
# input, a missing field and a key the client may not use are one JSON
# error each, and no call leaves its folder behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"
. "$(dirname "$0")/server-lib.sh"
. "$(dirname "$0")/bootchain-lib.sh"

SIGN_FILE=/usr/lib/linux-kbuild-6.1/scripts/sign-file
[ -x "$SIGN_FILE" ] || fail "no sign-file: apt install linux-kbuild-6.1 (scripts/install-deps.sh)"

with_bundle
with_queue
sign_config
AUDITOR=$(auditor auditor)
server_pki
server_clients
server_config
cat >> "$SIGN_CONF" <<CONF
	bundle = $T/bundle
	max-body = 4000000
	key-modules = platform
	key-swupdate = platform
	key-uefi = platform
	key-fitimage = platform
CONF
CERT="$T/bundle/certs/platform.pem"

# post ROUTE CLIENT OUT curl-args...: prints the HTTP status.
post() {
	local route=$1 who=$2 out=$3
	shift 3
	curl -sS -o "$out" -D "$T/headers" -w '%{http_code}' --cacert "$P/client-ca.pem" --cert "$P/$who.pem" \
		--key "$P/$who.key" "$@" "$url$route" 2>"$T/curl.err" || true
}
# expect_error ROUTE STATUS CODE TEXT curl-args...
expect_error() {
	local route=$1 status=$2 code=$3 text=$4 got
	shift 4
	got=$(post "$route" builder "$T/err.json" "$@")
	[ "$got" = "$status" ] || fail "$route: expected $status $code, got $got: $(cat "$T/err.json" "$T/curl.err") $(tail -3 "$T"/serve*.log)"
	[ "$(jq -r .error.code "$T/err.json")" = "$code" ] || fail "$route: not one JSON error $code: $(cat "$T/err.json")"
	case "$(jq -r .error.message "$T/err.json")" in *"$text"*) ;; *) fail "$route: expected '$text': $(cat "$T/err.json")" ;; esac
}
no_leftovers() {
	[ -z "$(ls -A "$T/state/sign/tmp" 2>/dev/null | grep '^route-')" ] ||
		fail "a call left its folder: $(ls "$T/state/sign/tmp")"
}
# wait_clients: until the node has the clients list.
wait_clients() {
	for _ in $(seq 100); do
		case "$(call builder '{}')" in 503*starting*) sleep 0.1 ;; *) break ;; esac
	done
}

# A sanitized build's capture module needs the ASan runtime in every tool
# (capture-lib.sh); the server passes it on to them.
TOOL_ENV=()
for v in "${CAP_ENV[@]}"; do
	case "$v" in
	LD_PRELOAD=*) TOOL_ENV+=("ROMBSR_TOOL_$v") ;;
	ASAN_OPTIONS=*) TOOL_ENV+=("ROMBSR_TOOL_$v") ;;
	esac
done
start_server "$T/serve.log" "${TOOL_ENV[@]}"
wait_clients

# --- POST /sign/modules: a tree with two modules (and a file that is not one).
mkdir -p "$T/mods/lib/modules/6.1.0/kernel/drivers" "$T/mods/lib/modules/6.1.0/extra"
head -c 5000 /dev/urandom > "$T/mods/lib/modules/6.1.0/kernel/drivers/a.ko"
# 3 MB: a body curl sends after "Expect: 100-continue", in many chunks.
head -c 3000000 /dev/urandom > "$T/mods/lib/modules/6.1.0/extra/b.ko"
printf 'a.ko\n' > "$T/mods/lib/modules/6.1.0/modules.order"
tar -C "$T/mods" -czf "$T/modules.tar.gz" .
got=$(post /sign/modules builder "$T/signed.tar.gz" -F "machine=board_x" -F "artifact=@$T/modules.tar.gz")
[ "$got" = 200 ] || fail "POST /sign/modules: $got $(cat "$T/signed.tar.gz" "$T/curl.err") $(tail -5 "$T/serve.log")"
grep -qi '^content-type: application/octet-stream' "$T/headers" || fail "content type: $(cat "$T/headers")"
grep -qi '^content-disposition: attachment; filename="signed-artifact.tar.gz"' "$T/headers" ||
	fail "content disposition: $(cat "$T/headers")"
mkdir "$T/out"
tar -C "$T/out" -xzf "$T/signed.tar.gz" || fail "the answer is not a tar.gz"
cmp -s "$T/out/lib/modules/6.1.0/modules.order" "$T/mods/lib/modules/6.1.0/modules.order" ||
	fail "a file that is not a module changed"
for m in kernel/drivers/a.ko extra/b.ko; do
	split_module "$T/out/lib/modules/6.1.0/$m" "$T/m.content" "$T/m.p7s" || fail "$m: not signed"
	cmp -s "$T/m.content" "$T/mods/lib/modules/6.1.0/$m" || fail "$m: the signed module's content is not the module"
	openssl cms -verify -binary -inform DER -in "$T/m.p7s" -content "$T/m.content" -certfile "$CERT" -CAfile "$CERT" \
		-out /dev/null 2>"$T/verify.err" || fail "$m: openssl cms -verify: $(cat "$T/verify.err")"
	# Printed whole first: grep -q stopping early would fail openssl's write.
	openssl cms -cmsout -print -inform DER -in "$T/m.p7s" > "$T/m.txt" || fail "$m: openssl cms -print"
	grep -q 'algorithm: sha512' "$T/m.txt" || fail "$m: the default hash is not sha512"
done
no_leftovers
echo "ok: POST /sign/modules: both modules signed (sha512), openssl cms -verify passes with the bundle's certificate"

got=$(post /sign/modules builder "$T/signed256.tar.gz" -F "machine=board_x" -F "hashalg=sha256" -F "artifact=@$T/modules.tar.gz")
[ "$got" = 200 ] || fail "hashalg=sha256: $got $(cat "$T/signed256.tar.gz")"
mkdir "$T/out256"
tar -C "$T/out256" -xzf "$T/signed256.tar.gz"
split_module "$T/out256/lib/modules/6.1.0/extra/b.ko" "$T/m.content" "$T/m.p7s"
openssl cms -verify -binary -inform DER -in "$T/m.p7s" -content "$T/m.content" -certfile "$CERT" -CAfile "$CERT" \
	-out /dev/null 2>/dev/null || fail "hashalg=sha256: does not verify"
openssl cms -cmsout -print -inform DER -in "$T/m.p7s" > "$T/m.txt" || fail "openssl cms -print"
grep -q 'algorithm: sha256' "$T/m.txt" || fail "hashalg=sha256 not used"
echo "ok: hashalg=sha256 honoured"

# Bad input: one JSON error each, nothing left behind.
expect_error /sign/modules 400 bad-input "no file field 'artifact'" -F "machine=board_x"
expect_error /sign/modules 400 bad-input "no field 'machine'" -F "artifact=@$T/modules.tar.gz"
expect_error /sign/modules 400 bad-input "unknown field 'colour'" -F "machine=board_x" -F "colour=red" \
	-F "artifact=@$T/modules.tar.gz"
expect_error /sign/modules 400 bad-input "field 'machine' is given twice" -F "machine=a" -F "machine=b" \
	-F "artifact=@$T/modules.tar.gz"
expect_error /sign/modules 400 bad-input "field 'artifact' is given twice" -F "machine=a" \
	-F "artifact=@$T/mods/lib/modules/6.1.0/modules.order" -F "artifact=@$T/mods/lib/modules/6.1.0/modules.order"
expect_error /sign/modules 400 bad-input "machine: longer than 128 bytes" -F "machine=$(printf 'm%.0s' $(seq 129))" \
	-F "artifact=@$T/modules.tar.gz"
expect_error /sign/modules 400 bad-input "hashalg: 'md5'" -F "machine=board_x" -F "hashalg=md5" -F "artifact=@$T/modules.tar.gz"
head -c 4100000 /dev/zero > "$T/big.tar.gz"
expect_error /sign/modules 413 too-large "larger than 4000000 bytes (server.max-body)" -F "machine=board_x" \
	-F "artifact=@$T/big.tar.gz"
# Without a length (chunks): read to its end and refused the same way; one
# that goes on more than 1 MiB past the limit is cut off.
expect_error /sign/modules 413 too-large "larger than 4000000 bytes (server.max-body)" \
	-H 'Transfer-Encoding: chunked' -F "machine=board_x" -F "artifact=@$T/big.tar.gz"
head -c 5200000 /dev/zero > "$T/huge.tar.gz"
got=$(post /sign/modules builder "$T/err.json" -H 'Transfer-Encoding: chunked' -F "machine=board_x" \
	-F "artifact=@$T/huge.tar.gz")
# No final answer: only curl's "100 Continue", or nothing.
case "$got" in 000 | 100) ;; *) fail "a body going on past the limit was not cut off: $got" ;; esac
expect_error /sign/modules 400 bad-input "multipart/form-data" -H 'Content-Type: application/json' --data '{}'
printf -- '--xyz\r\nContent-Disposition: form-data; name="machine"\r\n\r\nboard_x\r\n--xyz\r\nContent-Disp' > "$T/torn.txt"
expect_error /sign/modules 400 bad-input "" -H 'Content-Type: multipart/form-data; boundary=xyz' --data-binary "@$T/torn.txt"
printf 'not a tarball' > "$T/junk.tar.gz"
expect_error /sign/modules 400 tool-failed "tar failed" -F "machine=board_x" -F "artifact=@$T/junk.tar.gz"
tar -C "$T/mods" -czf "$T/nomods.tar.gz" ./lib/modules/6.1.0/modules.order
mkdir "$T/fifo" && mkfifo "$T/fifo/pipe.ko"
tar -C "$T/fifo" -czf "$T/fifo.tar.gz" .
expect_error /sign/modules 400 bad-input "no file, folder or symlink" -F "machine=board_x" -F "artifact=@$T/fifo.tar.gz"
expect_error /sign/modules 400 bad-input "no *.ko file" -F "machine=board_x" -F "artifact=@$T/nomods.tar.gz"
no_leftovers
echo "ok: a missing file or field, an unknown or repeated field, a bad hashalg, a body over server.max-body, a JSON body, a torn multipart body, a file that is not a tar.gz, a FIFO member and a tree without modules refused with one JSON error each"

# --- POST /sign/swupdate: sw-description, CMS (SWUpdate's own check) and RSA.
cat > "$T/sw-description" <<'SWD'
software = { version = "1.0.0"; images: ( { filename = "rootfs.ext4"; device = "/dev/mmcblk0p2"; } ); }
SWD
got=$(post /sign/swupdate builder "$T/sw-description.sig" -F "distro=tegra-demo" -F "method=CMS" \
	-F "sw-description=@$T/sw-description")
[ "$got" = 200 ] || fail "POST /sign/swupdate: $got $(cat "$T/sw-description.sig" "$T/curl.err")"
grep -qi '^content-disposition: attachment; filename="sw-description.sig"' "$T/headers" ||
	fail "content disposition: $(cat "$T/headers")"
openssl cms -verify -binary -inform DER -in "$T/sw-description.sig" -content "$T/sw-description" -CAfile "$CERT" \
	-out /dev/null 2>"$T/verify.err" || fail "sw-description.sig (CMS): $(cat "$T/verify.err")"
printf ' ' >> "$T/sw-description"
openssl cms -verify -binary -inform DER -in "$T/sw-description.sig" -content "$T/sw-description" -CAfile "$CERT" \
	-out /dev/null 2>/dev/null && fail "sw-description.sig verifies a changed sw-description"
got=$(post /sign/swupdate builder "$T/sw-rsa.sig" -F "distro=tegra-demo" -F "method=RSA" \
	-F "sw-description=@$T/sw-description")
[ "$got" = 200 ] || fail "POST /sign/swupdate method=RSA: $got $(cat "$T/sw-rsa.sig")"
openssl x509 -in "$CERT" -pubkey -noout > "$T/platform.pub"
openssl dgst -sha256 -verify "$T/platform.pub" -signature "$T/sw-rsa.sig" "$T/sw-description" >/dev/null ||
	fail "sw-description.sig (RSA) does not verify"
expect_error /sign/swupdate 400 bad-input "no field 'distro'" -F "sw-description=@$T/sw-description"
expect_error /sign/swupdate 400 bad-input "method: 'DSA'" -F "distro=x" -F "method=DSA" -F "sw-description=@$T/sw-description"
expect_error /sign/swupdate 400 bad-input "no file field 'sw-description'" -F "distro=x"
no_leftovers
echo "ok: POST /sign/swupdate: CMS verified by openssl cms -verify -binary -inform DER -content sw-description, RSA by openssl dgst -verify; a missing distro or file and a bad method refused"

# --- POST /sign/tegra/uefi: an EFI application (PE32+, subsystem 10, built
# here). Not with a sanitized capture module: libfaketime deadlocks in the
# ASan runtime's start (docs/bootchain-tools.md (b)).
nm -D "$ROMBSR_BUILD/libmock_pkcs11.so" > "$T/capture.syms" 2>/dev/null || fail "nm of the capture module"
if grep -q __asan_init "$T/capture.syms"; then
	echo "ok: /sign/tegra/uefi skipped: a sanitized capture module cannot run under faketime"
	uefi_decisions=0
else
	printf 'unsigned long long efi_main(void *image, void *table) { (void)image; (void)table; return 0; }\n' > "$T/app.c"
	gcc -c -O2 -fno-ident -ffreestanding -fno-stack-protector -fno-asynchronous-unwind-tables -fpic -mno-red-zone \
		-o "$T/app.o" "$T/app.c"
	ld -s -m i386pep --subsystem 10 -e efi_main -o "$T/app.efi" "$T/app.o"
	got=$(post /sign/tegra/uefi builder "$T/app.signed.efi" -F "machine=jetson" -F "signing_type=sbsign" \
		-F "artifact=@$T/app.efi")
	[ "$got" = 200 ] || fail "POST /sign/tegra/uefi sbsign: $got $(cat "$T/app.signed.efi") $(tail -3 "$T/serve.log")"
	grep -qi '^content-disposition: attachment; filename="artifact.signed"' "$T/headers" ||
		fail "content disposition: $(cat "$T/headers")"
	sbverify --cert "$CERT" "$T/app.signed.efi" > "$T/sbverify.out" 2>&1 || fail "sbverify: $(cat "$T/sbverify.out")"
	# signature: L4TLauncher's detached .sig; attach_signature: padded to
	# 2048 bytes, then the same kind of signature.
	head -c 3000 /dev/urandom > "$T/Image"
	got=$(post /sign/tegra/uefi builder "$T/Image.sig" -F "machine=jetson" -F "signing_type=signature" -F "artifact=@$T/Image")
	[ "$got" = 200 ] || fail "signing_type=signature: $got $(cat "$T/Image.sig")"
	openssl cms -verify -binary -inform DER -in "$T/Image.sig" -content "$T/Image" -CAfile "$CERT" -out /dev/null \
		2>"$T/verify.err" || fail "signing_type=signature: $(cat "$T/verify.err")"
	got=$(post /sign/tegra/uefi builder "$T/Image.signed" -F "machine=jetson" -F "signing_type=attach_signature" \
		-F "artifact=@$T/Image")
	[ "$got" = 200 ] || fail "signing_type=attach_signature: $got $(cat "$T/Image.signed")"
	cmp -s -n 3000 "$T/Image.signed" "$T/Image" || fail "attach_signature: the content changed"
	[ "$(head -c 4096 "$T/Image.signed" | tail -c 1096 | tr -d '\0' | wc -c)" = 0 ] || fail "attach_signature: not padded with zeros"
	tail -c +4097 "$T/Image.signed" > "$T/attached.sig"
	openssl cms -verify -binary -inform DER -in "$T/attached.sig" -content "$T/Image" -CAfile "$CERT" -out /dev/null \
		2>"$T/verify.err" || fail "attach_signature: $(cat "$T/verify.err")"
	expect_error /sign/tegra/uefi 400 bad-input "signing_type: 'pesign'" -F "machine=jetson" -F "signing_type=pesign" \
		-F "artifact=@$T/app.efi"
	expect_error /sign/tegra/uefi 400 bad-input "no field 'signing_type'" -F "machine=jetson" -F "artifact=@$T/app.efi"
	expect_error /sign/tegra/uefi 400 tool-failed "sbsign failed" -F "machine=jetson" -F "signing_type=sbsign" \
		-F "artifact=@$T/Image"
	no_leftovers
	uefi_decisions=3
	echo "ok: POST /sign/tegra/uefi: sbsign verified by sbverify --cert, signature and attach_signature by openssl cms -verify; a bad or missing signing_type and a file that is no EFI binary refused"
fi

# --- POST /sign/fitimage: an unsigned FIT (an image and a configuration
# signature node naming the route's key) and a U-Boot dtb for the key.
# fdt_bytes FILE NODE PROP OUT: a property's bytes (fdtget prints them as hex).
head -c 3000 /dev/urandom > "$T/kernel.bin"
printf '/dts-v1/;\n/ {\n\tmodel = "rombsr-board";\n};\n' | dtc -q -I dts -O dtb -o "$T/board.dtb" -
printf '/dts-v1/;\n/ {\n\tmodel = "rombsr-u-boot";\n\tsignature { };\n};\n' | dtc -q -I dts -O dtb -o "$T/u-boot.dtb" -
fit_its "$T/kernel.bin" platform "$T/fit.its"
mkimage -f "$T/fit.its" "$T/image.itb" >/dev/null || fail "mkimage -f"
openssl x509 -in "$CERT" -pubkey -noout > "$T/platform.pub"
got=$(post /sign/fitimage builder "$T/signed.itb" -F "artifact=@$T/image.itb" -F "machine=board_x")
[ "$got" = 200 ] || fail "POST /sign/fitimage: $got $(cat "$T/signed.itb") $(tail -3 "$T/serve.log")"
fdt_bytes "$T/signed.itb" /images/kernel/signature-1 value "$T/kernel.sig"
fdt_bytes "$T/signed.itb" /images/kernel data "$T/kernel.data"
cmp -s "$T/kernel.data" "$T/kernel.bin" || fail "the FIT's kernel is not the input"
openssl dgst -sha256 -verify "$T/platform.pub" -signature "$T/kernel.sig" "$T/kernel.data" >/dev/null ||
	fail "the FIT image signature does not verify"
fdtget "$T/signed.itb" /configurations/conf-1/signature-1 value >/dev/null || fail "no configuration signature"
# With the dtb: a tar.gz of the FIT and the dtb holding the key, required.
got=$(post /sign/fitimage builder "$T/fit.tar.gz" -F "artifact=@$T/image.itb" -F "dtb=@$T/u-boot.dtb" \
	-F "mark_required=1" -F "keyname=platform" -F "comment=ROMbsr test")
[ "$got" = 200 ] || fail "POST /sign/fitimage with dtb: $got $(cat "$T/fit.tar.gz")"
mkdir "$T/fitout"
tar -C "$T/fitout" -xzf "$T/fit.tar.gz" || fail "not a tar.gz"
fdt_bytes "$T/fitout/fitimage" /images/kernel/signature-1 value "$T/kernel2.sig"
openssl dgst -sha256 -verify "$T/platform.pub" -signature "$T/kernel2.sig" "$T/kernel.bin" >/dev/null ||
	fail "the FIT image signature (with dtb) does not verify"
[ "$(fdtget "$T/fitout/fitimage" /images/kernel/signature-1 comment)" = "ROMbsr test" ] || fail "no comment"
fdt_bytes "$T/fitout/dtb" /signature/key-platform rsa,modulus "$T/dtb.modulus"
[ "$(od -An -tx1 -v "$T/dtb.modulus" | tr -d ' \n')" = "$(openssl x509 -in "$CERT" -noout -modulus | cut -d= -f2 | tr 'A-F' 'a-f')" ] ||
	fail "the dtb's rsa,modulus is not the bundle key's"
[ "$(fdtget "$T/fitout/dtb" /signature/key-platform required)" = conf ] || fail "the dtb key is not required"
expect_error /sign/fitimage 403 no-key "keyname 'dev'" -F "artifact=@$T/image.itb" -F "keyname=dev"
fit_its "$T/kernel.bin" media "$T/media.its"
mkimage -f "$T/media.its" "$T/media.itb" >/dev/null || fail "mkimage -f"
# The capture module has the whole bundle: mkimage could sign with another
# bundle key the FIT names. The round names it and is refused before any
# decision.
expect_error /sign/fitimage 400 bad-input "the tool asked for key 'media'" -F "artifact=@$T/media.itb"
expect_error /sign/fitimage 400 tool-failed "mkimage failed (exit status 1): Error: Bad parameters for FIT image type" \
	-F "artifact=@$T/kernel.bin"
expect_error /sign/fitimage 400 bad-input "algo: only" -F "artifact=@$T/image.itb" --form-string "algo=sha256;rm"
no_leftovers
echo "ok: POST /sign/fitimage: image signature verified with openssl, configuration signed; with dtb a tar.gz whose dtb holds the bundle key, required; another keyname, a FIT naming another key, a file that is no FIT and a bad algo refused"

# A key the client may not use: the route's key is a development key, which
# never signs a user build; the decision refuses it and is logged.
stop_server
sed -i 's/key-modules = platform/key-modules = testkey/' "$SIGN_CONF"
start_server "$T/serve2.log" "${TOOL_ENV[@]}"
wait_clients
expect_error /sign/modules 403 development-key "" -F "machine=board_x" -F "artifact=@$T/modules.tar.gz"
[ "$(jq -r .audit.entries "$T/err.json")" = 1 ] || fail "the rejection names no audit entry: $(cat "$T/err.json")"
no_leftovers
echo "ok: a key the client may not use (a development key for a user build) refused by the decision, logged"

server_decisions $((7 + uefi_decisions))
echo "ok: audit-verify sees the routes' decisions, matched to the clients list"

# Killed after the HSM signed a round, before the audit log: the next start
# logs it, and no call's folder is left.
stop_server
sed -i 's/key-modules = testkey/key-modules = platform/' "$SIGN_CONF"
start_server "$T/serve3.log" ROMBSR_FAULT=before-log "${TOOL_ENV[@]}"
wait_clients
got=$(post /sign/modules builder "$T/crashed.tar.gz" -F "machine=board_x" -F "artifact=@$T/modules.tar.gz")
wait "$server" 2>/dev/null || true
[ "$got" != 200 ] || fail "a node killed before logging answered 200"
[ "$(wc -l < "$T/state/sign/server.pending")" -ge 2 ] || fail "no record of the round left for recovery: $(cat "$T/serve3.log")"
start_server "$T/serve4.log" "${TOOL_ENV[@]}"
for _ in $(seq 100); do
	grep -q "decided before the node stopped, is logged at audit entry" "$T/serve4.log" && break
	sleep 0.1
done
grep -q "decided before the node stopped, is logged at audit entry" "$T/serve4.log" ||
	fail "the signed round was not recovered: $(cat "$T/serve4.log")"
[ ! -s "$T/state/sign/server.pending" ] || fail "a recovered round's record is left"
no_leftovers
server_decisions $((8 + uefi_decisions))
echo "ok: a node killed between the HSM and the log logs the round at its next start; the call's folder is removed"
stop_server

# rombsr avb against a real token (SoftHSM2, the test key set): a chain as
# a ROM has it — boot with a hash footer and system with a hash tree, both
# unsigned in their footers and covered by vbmeta_system (avb_intermediate)
# or by vbmeta (avb_root), which chains vbmeta_system at location 1.
# Checked by `rombsr avb verify`, by veritysetup (the kernel's dm-verity
# format, an independent implementation) for the hash tree, and by openssl
# for the vbmeta signature; then every refusal of the issue, each with a
# clear error and the image left as it was.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"

with_bundle
avb() { "$ROMBSR" avb "$@"; }
key() { printf 'pkcs11:token=rombsr-release;object=%s?module-path=%s&pin-source=file:%s' "$1" "$SOFTHSM_MODULE" \
	"$RELEASE_PIN"; }
mkdir -p "$T/rom" "$T/tree/app"
cd "$T/rom"

# The images: boot is raw bytes of an odd size; system is a real ext4.
head -c 1000001 /dev/urandom > boot.img
for i in $(seq 20); do head -c $((i * 7919)) /dev/urandom > "$T/tree/app/file$i"; done
mke2fs -q -t ext4 -b 4096 -d "$T/tree" -E root_owner=0:0 system.img 6M
cp boot.img boot.orig; cp system.img system.orig

avb extract-public-key --key "$(key avb_intermediate)" --output intermediate.bin
avb extract-public-key --pem "$T/bundle/certs/avb_intermediate.pem" --output intermediate-pem.bin
cmp -s intermediate.bin intermediate-pem.bin || fail "the key blob from the token differs from the certificate's"
openssl x509 -in "$T/bundle/certs/avb_root.pem" -pubkey -noout > root.pub
openssl x509 -in "$T/bundle/certs/avb_intermediate.pem" -pubkey -noout > intermediate.pub

avb add-hash-footer --image boot.img --partition-name boot --partition-size $((2 * 1024 * 1024)) ||
	fail "add-hash-footer"
avb add-hashtree-footer --image system.img --partition-name system --partition-size $((8 * 1024 * 1024)) ||
	fail "add-hashtree-footer"
[ "$(stat -c %s boot.img)" -eq $((2 * 1024 * 1024)) ] || fail "boot.img is not the partition's size"
cmp -s -n 1000001 boot.img boot.orig || fail "add-hash-footer changed the image's own bytes"
avb make-vbmeta --output vbmeta_system.img --key "$(key avb_intermediate)" --algorithm SHA256_RSA4096 \
	--rollback-index 7 --rollback-index-location 1 --include-descriptors-from-image system.img ||
	fail "make-vbmeta (vbmeta_system)"
avb make-vbmeta --output vbmeta.img --key "$(key avb_root)" --rollback-index 3 \
	--include-descriptors-from-image boot.img --chain-partition vbmeta_system:1:intermediate.bin \
	--prop com.example.build:T1 --kernel-cmdline 'androidboot.test=1' || fail "make-vbmeta (vbmeta)"
avb info --image vbmeta.img > info.txt || fail "avb info"
for want in "Algorithm:                SHA256_RSA4096" "Rollback Index:           3" "Hash descriptor:" \
	"Chain Partition descriptor:" "Rollback Index Location: 1" "Prop: 'com.example.build'" \
	"Kernel Cmdline:        'androidboot.test=1'"; do
	grep -qF "$want" info.txt || fail "avb info lacks '$want': $(cat info.txt)"
done
avb verify --image vbmeta.img --key root.pub > verify.txt || fail "avb verify: $(cat verify.txt)"
grep -q "partition boot: sha256 hash of 1000001 bytes ok" verify.txt || fail "verify: $(cat verify.txt)"
grep -q "partition vbmeta_system: vbmeta SHA256_RSA4096 signature ok, rollback index 7 at location 1" verify.txt ||
	fail "verify: $(cat verify.txt)"
grep -q "partition system: sha256 hash tree" verify.txt || fail "verify: $(cat verify.txt)"
echo "ok: a two-level chain made on SoftHSM2 verifies"

# The other algorithms: SHA512_RSA4096 with the same key, SHA256_RSA2048
# with an RSA-2048 key made for this test in the test's copy of the token
# (no certificate: the public key comes from the key's own attributes).
avb make-vbmeta --output v512.img --key "$(key avb_root)" --algorithm SHA512_RSA4096 \
	--include-descriptors-from-image boot.img || fail "make-vbmeta SHA512_RSA4096"
avb verify --image v512.img --key root.pub >/dev/null || fail "verify SHA512_RSA4096"
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-release --login --pin "$(cat "$RELEASE_PIN")" \
	--keypairgen --key-type rsa:2048 --label avb2048 --id 2048 >/dev/null 2>&1 || fail "pkcs11-tool keypairgen"
avb make-vbmeta --output v2048.img --key "$(key avb2048)" --include-descriptors-from-image boot.img ||
	fail "make-vbmeta with an RSA-2048 key"
grep -q "Algorithm:                SHA256_RSA2048" <(avb info --image v2048.img) || fail "RSA-2048: not SHA256_RSA2048"
avb extract-public-key --key "$(key avb2048)" --output k2048.bin
avb verify --image v2048.img --key k2048.bin >/dev/null || fail "verify SHA256_RSA2048 against its key blob"
echo "ok: SHA512_RSA4096 and SHA256_RSA2048 (a key without certificate) sign and verify"

# The vbmeta signature by openssl: PKCS#1 v1.5 SHA-256 over the header
# and the auxiliary block (the authentication block left out).
python3 - vbmeta.img <<'PY' || fail "cutting vbmeta.img"
import struct, sys
d = open(sys.argv[1], 'rb').read()
auth, aux = struct.unpack('>QQ', d[12:28])
sig_off, sig_len = struct.unpack('>QQ', d[48:64])
open('tbs', 'wb').write(d[:256] + d[256 + auth:256 + auth + aux])
open('sig', 'wb').write(d[256 + sig_off:256 + sig_off + sig_len])
PY
openssl dgst -sha256 -verify root.pub -signature sig tbs >/dev/null || fail "openssl does not verify vbmeta"

# The hash tree by veritysetup (dm-verity format 1: salt first).
grep -A14 "Hashtree descriptor" <(avb info --image system.img) > ht.txt
field() { sed -n "s/^ *$1: *//p" ht.txt | sed 's/ bytes$//'; }
veritysetup verify --no-superblock --format=1 --hash=sha256 --data-block-size=4096 --hash-block-size=4096 \
	--data-blocks=$(($(field "Image Size") / 4096)) --hash-offset="$(field "Tree Offset")" \
	--salt="$(field Salt)" system.img system.img "$(field "Root Digest")" || fail "veritysetup refuses the tree"
echo "ok: openssl verifies the vbmeta signature, veritysetup the hash tree"

# Deterministic: the same inputs make the same bytes (salt derived).
cp vbmeta.img vbmeta.first; cp system.img system.first
cp system.orig system.img
avb add-hashtree-footer --image system.img --partition-name system --partition-size $((8 * 1024 * 1024))
cmp -s system.img system.first || fail "add-hashtree-footer is not deterministic"
avb add-hashtree-footer --image system.img --partition-name system --partition-size $((8 * 1024 * 1024))
cmp -s system.img system.first || fail "add-hashtree-footer over its own footer is not the same"
avb make-vbmeta --output vbmeta.img --key "$(key avb_root)" --rollback-index 3 \
	--include-descriptors-from-image boot.img --chain-partition vbmeta_system:1:intermediate.bin \
	--prop com.example.build:T1 --kernel-cmdline 'androidboot.test=1'
cmp -s vbmeta.img vbmeta.first || fail "make-vbmeta is not deterministic"
echo "ok: footers and vbmeta are byte for byte the same on a rerun"

# Refusals, each naming what failed, nothing half-written.
cp system.img system.good
flip_byte system.img 40000
expect_fail "partition 'system': hashtree descriptor: the root digest of the data does not match" \
	avb verify --image vbmeta.img --key root.pub
cp system.good system.img
cp boot.img boot.good
flip_byte boot.img 5
expect_fail "partition 'boot': hash descriptor: the sha256 digest of the image does not match" \
	avb verify --image vbmeta.img --key root.pub
cp boot.good boot.img
expect_fail "partition 'vbmeta': signed by another key than the one expected" \
	avb verify --image vbmeta.img --key intermediate.pub
# vbmeta_system signed by the root key instead of the chained one.
cp vbmeta_system.img vbmeta_system.good
avb make-vbmeta --output vbmeta_system.img --key "$(key avb_root)" --rollback-index-location 1 \
	--include-descriptors-from-image system.img
expect_fail "partition 'vbmeta_system': signed by another key than the one expected for it" \
	avb verify --image vbmeta.img --key root.pub
cp vbmeta_system.good vbmeta_system.img
# A truncated image.
head -c 3000000 system.good > system.img
expect_fail "partition 'system': hashtree descriptor: the image is truncated" avb verify --image vbmeta.img --key root.pub
# A footer past the partition size: the image is left untouched.
cp boot.orig big.img
expect_fail "does not fit: the image (1000001 bytes) with its hash tree (0), vbmeta and footer needs" \
	avb add-hash-footer --image big.img --partition-name boot --partition-size 1003520
cmp -s big.img boot.orig || fail "a refused add-hash-footer changed the image"
expect_fail "is not a multiple of 4096" avb add-hash-footer --image big.img --partition-name boot --partition-size 5000
# Wrong key sizes and missing keys.
expect_fail "SHA256_RSA2048 needs an RSA-2048 key" \
	avb make-vbmeta --output x.img --key "$(key avb_root)" --algorithm SHA256_RSA2048
expect_fail "no private key matches the key URI" avb make-vbmeta --output x.img --key "$(key no_such_key)"
expect_fail "pin-value" avb make-vbmeta --output x.img \
	--key "pkcs11:token=rombsr-release;object=avb_root?module-path=$SOFTHSM_MODULE&pin-value=1234"
[ ! -e x.img ] || fail "a refused make-vbmeta wrote its output"
printf 'not avb' > junk.img
expect_fail "truncated header" avb info --image junk.img
echo "avb ok"

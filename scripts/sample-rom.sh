#!/usr/bin/env bash
# A sample ROM made from Debian's tools only, and the plan that signs it
# with `rombsr rom-sign` (docs/rom-sign.md):
#   OUT/in/        the unsigned inputs: APKs built with aapt (one per key),
#                  a kernel and ramdisk for mkbootimg, debugfs scripts that
#                  fix the inode change times mke2fs -d copies from the host
#   OUT/plan.json  round "apks" (apksigner through the capture module, v1+v2+v3:
#                  two requests, v1 being inside what v2/v3 sign), "images"
#                  (system and vendor ext4 images holding the signed APKs,
#                  boot.img, AVB footers, vbmeta_system chained by
#                  avb_intermediate, vbmeta by avb_root), "ota" (the images
#                  zipped, rombsr ota sign with ota_key), "manifest" (the
#                  release manifest, manifest authority); then the
#                  ecosystem's verifiers.
# Every step is deterministic (fixed times, UUIDs, hash seeds, salts), so a
# replay rebuilds the same bytes.
#
# Usage: sample-rom.sh OUT
# Environment: ROMBSR_BUILD (default: build/ of this checkout), SAMPLE_ROM_BUNDLE
# (the public bundle; default OUT/bundle), SAMPLE_ROM_APKS (number of APKs,
# default 4), SAMPLE_ROM_BUILD_ID (default SAMPLE.1).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 1 ] || { echo "usage: sample-rom.sh OUT" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
build=$(cd "${ROMBSR_BUILD:-$top/build}" && pwd)
bundle=${SAMPLE_ROM_BUNDLE:-$out/bundle}
napks=${SAMPLE_ROM_APKS:-4}
keys=(platform media shared networkstack bluetooth sdk_sandbox)

rm -rf "$out/in"
mkdir -p "$out/in/apk"
names=()
for i in $(seq 0 $((napks - 1))); do
	key=${keys[$((i % ${#keys[@]}))]}
	name=$(printf 'Sample%s%03d' "${key^}" "$i" | tr -d _)
	# minSdk 21: apksigner adds a v1 (JAR) signature beside v2 and v3.
	"$top/scripts/make-sample-apk.sh" "org.rombsr.sample.${name,,}" "$out/in/apk/$name.apk" 21
	names+=("$name:$key")
done
# A kernel and a ramdisk for mkbootimg: stand-ins of fixed content.
head -c 65536 /dev/zero | tr '\0' 'K' > "$out/in/kernel"
printf 'sample ramdisk\n' | gzip -n -9 > "$out/in/ramdisk.img"
printf 'name = ROMbsrCapture\nlibrary = %s/libmock_pkcs11.so\nslot = 0\n' "$build" > "$out/capture-p11.cfg"

# e2fsprogs lives in /usr/sbin, which a user's PATH may lack: the plan names
# the programs by their full path.
sbin() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1" || { echo "sample-rom: $1 not found" >&2; exit 1; }; }
mke2fs=$(sbin mke2fs)
debugfs=$(sbin debugfs)

python3 - "$out" "$build" "$bundle" "${SAMPLE_ROM_BUILD_ID:-SAMPLE.1}" "$mke2fs" "$debugfs" "${names[@]}" <<'PY'
import json, sys

out, build, bundle, build_id, mke2fs, debugfs = sys.argv[1:7]
apks = [a.split(":") for a in sys.argv[7:]]
rombsr = build + "/rombsr"
epoch = "1790000000"
module = build + "/libmock_pkcs11.so"
key = lambda label: "pkcs11:token=rombsr-capture;object=%s?module-path=%s" % (label, module)
step = lambda name, *argv: {"name": name, "argv": list(argv)}
part = {"system": [n for i, (n, k) in enumerate(apks) if i % 2 == 0],
        "vendor": [n for i, (n, k) in enumerate(apks) if i % 2 == 1]}
size = {"system": ("16M", 18874368), "vendor": ("8M", 10485760)}
# Fixed per image: ext4 UUID and directory hash seed.
ids = {"system": ("5a1e0c3e-7d1b-4c55-9d2e-0a6b1f2c3d40", "0f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"),
       "vendor": ("6b2f1d4f-8e2c-4d66-8e3f-1b7c2a3d4e51", "1a3f4e5d-6c7b-4a89-9706-b5c4d3e2f1a0")}
fingerprint = "rombsr/sample_phone/sample:14/%s/1:user/release-keys" % build_id

apk_steps = [step("sign-" + n, "apksigner", "-J-add-exports=jdk.crypto.cryptoki/sun.security.pkcs11=ALL-UNNAMED",
                  "sign", "--ks", "NONE", "--ks-type", "PKCS11", "--provider-class", "sun.security.pkcs11.SunPKCS11",
                  "--provider-pos", "1", "--provider-arg", out + "/capture-p11.cfg", "--ks-pass", "pass:none",
                  "--ks-key-alias", k, "--v4-signing-enabled", "false", "--out", "signed/%s.apk" % n, "in/apk/%s.apk" % n)
             for n, k in apks]
apk_steps.insert(0, step("mkdir", "mkdir", "-p", "signed"))

img = [step("clean", "rm", "-rf", "tree", "images", "avb"),
       step("mkdir", "mkdir", "-p", "images", "avb",
            *["tree/%s/app/%s" % (p, n) for p in part for n in part[p]])]
img += [step("copy-" + n, "cp", "signed/%s.apk" % n, "tree/%s/app/%s/%s.apk" % (p, n, n)) for p in part for n in part[p]]
img.append(step("times", "find", "tree", "-exec", "touch", "-h", "-d", "@" + epoch, "{}", "+"))
for p in part:
    uuid, seed = ids[p]
    img.append(step("mke2fs-" + p, mke2fs, "-q", "-F", "-t", "ext4", "-b", "4096", "-I", "256", "-T", "default",
                    "-U", uuid, "-E", "hash_seed=%s,root_owner=0:0" % seed, "-L", p, "-d", "tree/" + p,
                    "images/%s.img" % p, size[p][0]))
    # mke2fs -d copies each file's change time, which no tool can set on
    # the host: debugfs sets it in the image.
    with open("%s/in/fix-%s.debugfs" % (out, p), "w") as f:
        for path in ["/app"] + ["/app/" + n for n in part[p]] + ["/app/%s/%s.apk" % (n, n) for n in part[p]]:
            f.write("set_inode_field %s ctime @%s\n" % (path, epoch))
    img.append(step("ctimes-" + p, debugfs, "-w", "-f", "in/fix-%s.debugfs" % p, "images/%s.img" % p))
img += [step("mkbootimg", "mkbootimg", "--kernel", "in/kernel", "--ramdisk", "in/ramdisk.img",
             "--cmdline", "console=ttyS0", "--os_version", "14.0.0", "--os_patch_level", "2026-11",
             "--output", "images/boot.img"),
        step("intermediate-key", rombsr, "avb", "extract-public-key", "--key", key("avb_intermediate"),
             "--output", "avb/intermediate.bin"),
        step("footer-boot", rombsr, "avb", "add-hash-footer", "--image", "images/boot.img", "--partition-name", "boot",
             "--partition-size", "1048576", "--salt-seed", fingerprint)]
for p in part:
    img.append(step("footer-" + p, rombsr, "avb", "add-hashtree-footer", "--image", "images/%s.img" % p,
                    "--partition-name", p, "--partition-size", str(size[p][1]), "--salt-seed", fingerprint))
img += [step("vbmeta_system", rombsr, "avb", "make-vbmeta", "--output", "images/vbmeta_system.img",
             "--key", key("avb_intermediate"), "--rollback-index", "2", "--rollback-index-location", "1",
             "--include-descriptors-from-image", "images/system.img"),
        step("vbmeta", rombsr, "avb", "make-vbmeta", "--output", "images/vbmeta.img", "--key", key("avb_root"),
             "--rollback-index", "2", "--include-descriptors-from-image", "images/boot.img",
             "--include-descriptors-from-image", "images/vendor.img",
             "--chain-partition", "vbmeta_system:1:avb/intermediate.bin")]

images = ["images/%s.img" % i for i in ("boot", "system", "vendor", "vbmeta_system", "vbmeta")]
ota = [step("clean", "rm", "-rf", "ota", "images/ota.zip"),
       step("mkdir", "mkdir", "-p", "ota"),
       step("times", "touch", "-h", "-d", "@" + epoch, *images),
       step("zip", "zip", "-q", "-X", "-j", "ota/ota-unsigned.zip", *images),
       step("ota-sign", rombsr, "ota", "sign", "--key", key("ota_key"), "--in", "ota/ota-unsigned.zip",
            "--out", "images/ota.zip")]
manifest = [step("manifest", rombsr, "manifest", "create", "--key", key("manifest"), "--product", "sample_phone",
                 "--device", "sample", "--version", "14.0.1", "--rollback", "0=2", "--rollback", "1=2",
                 "--out", "release.json", *(images + ["images/ota.zip"]))]

verify = [step("clean", "rm", "-rf", "verify"),
          step("mkdir", "mkdir", "-p", "verify/system", "verify/vendor"),
          step("avb-root-key", "openssl", "x509", "-in", bundle + "/certs/avb_root.pem", "-pubkey", "-noout",
               "-out", "verify/avb_root.pub")]
for p in part:
    for n in part[p]:
        extracted = "verify/%s/%s.apk" % (p, n)
        # debugfs reads the image, nothing is mounted.
        verify += [step("extract-" + n, debugfs, "-R", "dump /app/%s/%s.apk %s" % (n, n, extracted), "images/%s.img" % p),
                   step("same-" + n, "cmp", "signed/%s.apk" % n, extracted),
                   step("apksigner-" + n, "apksigner", "verify", "--min-sdk-version", "21", extracted)]
verify += [step("avb", rombsr, "avb", "verify", "--image", "images/vbmeta.img", "--key", "verify/avb_root.pub"),
           step("ota", rombsr, "ota", "verify", "--bundle", bundle, "--label", "ota_key", "--in", "images/ota.zip"),
           step("manifest", rombsr, "manifest", "verify", "--bundle", bundle, "--in", "release.json",
                "--artifacts", "images")]

plan = {"format": "rombsr.rom-plan", "version": 1,
        "product": "sample_phone", "build_id": build_id, "source_commit": "0" * 40, "build_type": "user",
        "bundle": bundle,
        "env": {"SOURCE_DATE_EPOCH": epoch, "E2FSPROGS_FAKE_TIME": epoch, "TZ": "UTC", "LC_ALL": "C"},
        "rounds": [{"name": "apks", "authority": "release",
                    "artifacts": ["in/apk/%s.apk" % n for n, k in apks], "steps": apk_steps},
                   {"name": "images", "authority": "release", "steps": img},
                   {"name": "ota", "authority": "release", "steps": ota},
                   {"name": "manifest", "authority": "manifest", "steps": manifest}],
        "verify": verify}
with open(out + "/plan.json", "w") as f:
    json.dump(plan, f, indent=1)
    f.write("\n")
PY
echo "sample ROM inputs and plan in $out (${#names[@]} APKs): rombsr rom-sign --plan $out/plan.json --state DIR"

#!/bin/sh
# Installs the Debian 12 packages ROMbsr builds, runs and tests with.
# Run as root. Safe to run again.
set -eu
packages="
	build-essential pkg-config
	libssl-dev libgit2-dev libgpgme-dev libjansson-dev libp11-kit-dev libmicrohttpd-dev libsystemd-dev
	libgnutls28-dev libcurl4-openssl-dev
	libsystemd0 libmicrohttpd12 systemd curl prometheus
	p11-kit softhsm2 opensc libengine-pkcs11-openssl
	git gnupg jq zip unzip python3 cryptsetup-bin e2fsprogs xxd
	age libgfshare-dev libgfshare-bin
	default-jre-headless apksigner zipalign aapt android-framework-res signapk mkbootimg openssl
	linux-kbuild-6.1 tar gzip faketime sbsigntool u-boot-tools device-tree-compiler
"
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: run as root (it uses apt-get)" >&2
	exit 1
fi
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "install-deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
	# prometheus is here for its promtool (the metrics tests, docs/metrics.md):
	# Debian has no package of promtool alone. The server it installs is not
	# ROMbsr's: when this script installed it, it does not run.
	case " $missing " in
	*" prometheus "*) systemctl disable --now prometheus >/dev/null 2>&1 || true ;;
	esac
fi

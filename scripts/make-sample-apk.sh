#!/bin/sh
# Builds a small, real, unsigned APK with Debian's aapt: a binary
# AndroidManifest.xml, one resource and a payload.
# Usage: make-sample-apk.sh PACKAGE OUT.apk [MIN_SDK]
# MIN_SDK below 24 makes apksigner add a v1 (JAR) signature as well.
set -eu
package=$1
out=$2
min_sdk=${3:-28}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/res/values"
cat > "$work/AndroidManifest.xml" <<XML
<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android"
    package="$package" android:versionCode="1" android:versionName="1.0">
    <uses-sdk android:minSdkVersion="$min_sdk" android:targetSdkVersion="33"/>
    <application android:label="@string/app_name"/>
</manifest>
XML
cat > "$work/res/values/strings.xml" <<XML
<?xml version="1.0" encoding="utf-8"?>
<resources><string name="app_name">$package</string></resources>
XML
aapt package -f -M "$work/AndroidManifest.xml" -S "$work/res" \
	-I /usr/share/android-framework-res/framework-res.apk -F "$work/unsigned.apk" >/dev/null
# Deterministic payload, so a build is reproducible.
printf 'dex\n035\0payload of %s\n' "$package" > "$work/classes.dex"
(cd "$work" && TZ=UTC touch -t 200901010000 classes.dex && zip -q -X unsigned.apk classes.dex)
zipalign -f 4 "$work/unsigned.apk" "$out"

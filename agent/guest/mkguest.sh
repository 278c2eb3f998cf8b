#!/bin/sh
# mkguest.sh: builds the qemu backend's guest from Debian packages: the
# kernel of linux-image-amd64 (as vmlinux, for PVH boot), an initramfs of
# busybox-static, the virtio/pvpanic/fw_cfg modules, /init and a static
# hotsoak-agent, and manifest.json naming what went in.
#
# usage: mkguest.sh --out DIR --agent FILE --init FILE --agent-version STR
#
# The kernel package is found through `apt-cache depends linux-image-amd64`,
# fetched with `apt-get download` into DIR/cache (kept, reused) and unpacked
# with `dpkg -x` into DIR/work (removed); it is never installed on the host.
# manifest.json is written last, so its presence means a complete image.
set -eu

# Load order: each module's depends= (see `strings X.ko`) comes before it.
# pvpanic-mmio binds QEMU's pvpanic device (no GUEST_PANICKED without it);
# qemu_fw_cfg shows the run's token under /sys/firmware/qemu_fw_cfg.
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev
	virtio_pci virtio_blk virtio_console virtio_mem pvpanic pvpanic-mmio
	qemu_fw_cfg"
META=linux-image-amd64
BUSYBOX=${BUSYBOX:-/bin/busybox}

out='' agent='' init='' agent_version=''
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2 ;;
	--agent) agent=$2 ;;
	--init) init=$2 ;;
	--agent-version) agent_version=$2 ;;
	*) echo "usage: mkguest.sh --out DIR --agent FILE --init FILE" \
	    "--agent-version STR" >&2; exit 2 ;;
	esac
	shift 2
done

die() {
	echo "mkguest: $*" >&2
	exit 1
}

if [ -z "$out" ] || [ -z "$agent" ] || [ -z "$init" ] ||
    [ -z "$agent_version" ]; then
	die "--out, --agent, --init and --agent-version are required"
fi
[ -f "$agent" ] || die "$agent: no such file"
[ -f "$init" ] || die "$init: no such file"
for tool in apt-cache apt-get dpkg-deb dpkg-query xz gzip sha256sum grep od; do
	command -v "$tool" >/dev/null 2>&1 ||
	    die "$tool not found (a Debian host with xz-utils is needed)"
done
[ -x "$BUSYBOX" ] || die "$BUSYBOX not found: install busybox-static"

# A program for the initramfs must not need a dynamic loader: the image
# has none.
is_static() {
	command -v readelf >/dev/null 2>&1 || return 0
	! readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}
is_static "$BUSYBOX" || die "$BUSYBOX is dynamically linked: install busybox-static"
is_static "$agent" || die "$agent is dynamically linked: link it with -static"

# The first four bytes of $1 are the ELF magic.
is_elf() {
	[ "$(od -An -tx1 -N4 "$1" | tr -d ' \n')" = 7f454c46 ]
}

mkdir -p "$out/cache"
out=$(cd "$out" && pwd)
cache=$out/cache
work=$out/work
trap 'rm -rf "$work" "$out"/*.tmp' EXIT
trap 'exit 1' HUP INT TERM
rm -rf "$work"
mkdir -p "$work"

# Which kernel: the versioned package the meta-package depends on.
kernel_package() {
	apt-cache depends "$META" 2>/dev/null |
	    sed -n 's/^ *Depends: <*\(linux-image-[0-9][^ >]*\)>*$/\1/p' | head -n 1
}
pkg=$(kernel_package)
if [ -z "$pkg" ]; then
	[ "$(id -u)" -eq 0 ] ||
	    die "apt-cache knows no $META: run \`apt-get update\` as root, then retry"
	echo "mkguest: apt-cache knows no $META; running apt-get update"
	apt-get update -qq || die "apt-get update failed"
	pkg=$(kernel_package)
	[ -n "$pkg" ] || die "apt-cache depends $META names no linux-image package"
fi
ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null |
    sed -n 's/^Version: //p' | head -n 1)
[ -n "$ver" ] || die "apt-cache has no candidate version of $pkg"

# The cached .deb of exactly that version, else a fresh download.
deb=
for f in "$cache/${pkg}"_*.deb; do
	[ -f "$f" ] || continue
	if [ "$(dpkg-deb -f "$f" Package 2>/dev/null)" = "$pkg" ] &&
	    [ "$(dpkg-deb -f "$f" Version 2>/dev/null)" = "$ver" ]; then
		deb=$f
		break
	fi
done
if [ -z "$deb" ]; then
	echo "mkguest: downloading $pkg $ver into $cache"
	mkdir -p "$work/dl"
	# As root apt would drop to _apt, who cannot write in our folder, and
	# fall back to root with a warning: say so at once.
	sandbox=
	[ "$(id -u)" -ne 0 ] || sandbox="-o APT::Sandbox::User=root"
	# shellcheck disable=SC2086
	(cd "$work/dl" && apt-get download -q $sandbox "$pkg=$ver") ||
	    die "apt-get download $pkg=$ver failed"
	for f in "$work/dl"/*.deb; do
		[ -f "$f" ] || die "apt-get download $pkg=$ver left no .deb"
		mv "$f" "$cache/"
		deb=$cache/${f##*/}
	done
fi
echo "mkguest: kernel $pkg $ver (${deb##*/})"
dpkg -x "$deb" "$work/kernel" || die "dpkg -x $deb failed"

release=
for d in "$work/kernel/lib/modules"/*; do
	if [ -d "$d" ]; then
		release=${d##*/}
	fi
done
[ -n "$release" ] || die "$pkg has no lib/modules/RELEASE"
bzimage=$work/kernel/boot/vmlinuz-$release
[ -f "$bzimage" ] || die "$pkg has no boot/vmlinuz-$release"

# vmlinux for PVH boot (-kernel vmlinux boots in about half the time of
# the bzImage under TCG): the bzImage carries it as an XZ stream; take the
# first magic that decompresses to an ELF, ignoring what follows the stream.
rm -f "$out/vmlinux.tmp"
# shellcheck disable=SC2013 # offsets: numbers, one a word
for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bzimage" | cut -d: -f1); do
	if tail -c +"$((off + 1))" "$bzimage" |
	    xz -dc --single-stream >"$out/vmlinux.tmp" 2>/dev/null &&
	    is_elf "$out/vmlinux.tmp"; then
		break
	fi
	rm -f "$out/vmlinux.tmp"
done
[ -f "$out/vmlinux.tmp" ] ||
    die "$bzimage: no XZ stream (FD 37 7A 58 5A 00) that decompresses to an ELF"

# The initramfs tree.
root=$work/root
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" \
    "$root/dev" "$root/proc" "$root/sys" "$root/run" "$root/tmp" \
    "$root/etc" "$root/root" "$root/lib/modules"
cp "$BUSYBOX" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list-full); do
	case $applet in
	bin/busybox) continue ;;
	*/*) ;;
	*) continue ;;	# linuxrc: no folder, and /init is ours
	esac
	mkdir -p "$root/${applet%/*}"
	ln -sf /bin/busybox "$root/$applet"
done
cp "$init" "$root/init"
chmod 0755 "$root/init"
cp "$agent" "$root/usr/bin/hotsoak-agent"
chmod 0755 "$root/usr/bin/hotsoak-agent"

# The modules, plain .ko (busybox insmod reads them as they are), checked
# against their depends= so that the list above stays in load order.
moddir=$work/kernel/lib/modules/$release
loaded=" "
modules_json=
modules_list=
for m in $MODULES; do
	src=$(find "$moddir" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" \
	    -o -name "$m.ko.gz" | head -n 1)
	[ -n "$src" ] || die "$pkg has no module $m"
	dst=$root/lib/modules/$m.ko
	case $src in
	*.xz) xz -dc "$src" >"$dst" ;;
	*.gz) gzip -dc "$src" >"$dst" ;;
	*.zst) zstd -qdc "$src" >"$dst" ||
	    die "$src: zstd is needed to decompress it" ;;
	*) cp "$src" "$dst" ;;
	esac
	deps=$(LC_ALL=C grep -a -o 'depends=[^[:cntrl:]]*' "$dst" | head -n 1)
	deps=${deps#depends=}
	for d in $(echo "$deps" | tr ',' ' '); do
		case $loaded in
		*" $d "*) ;;
		*) die "module $m needs $d, which is not loaded before it" ;;
		esac
	done
	# Dependencies name modules with underscores, whatever their file.
	loaded="$loaded$(echo "$m" | tr - _) "
	modules_json="$modules_json${modules_json:+, }\"$m\""
	modules_list="$modules_list${modules_list:+ }$m"
done

bb_version=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null) ||
    bb_version=
[ -n "$bb_version" ] ||
    bb_version=$("$BUSYBOX" 2>&1 | sed -n '1s/^BusyBox v\([^ ]*\).*/\1/p')

# What /init says it runs (the manifest cannot be inside what it hashes).
for v in "$pkg" "$ver" "$release" "$bb_version" "$agent_version"; do
	case $v in
	*[\'\"\\]*) die "unexpected quote in \`$v\`" ;;
	esac
done
cat >"$root/etc/hotsoak-guest.conf" <<EOF
# Written by mkguest.sh: what this initramfs holds, for /init.
KERNEL_PACKAGE='$pkg'
KERNEL_VERSION='$ver'
KERNEL_RELEASE='$release'
BUSYBOX_VERSION='$bb_version'
AGENT_VERSION='$agent_version'
MODULES='$modules_list'
EOF

# Sorted and with fixed times, so that the same inputs give the same
# archive and the manifest's sha256 tells whether the image changed.
find "$root" -exec touch -h -d "@${SOURCE_DATE_EPOCH:-0}" {} +
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
    "$root/bin/busybox" cpio -0 -o -H newc -R 0:0 \
	    --ignore-devno --renumber-inodes >"$work/initramfs.cpio") ||
    die "busybox cpio failed"
gzip -9 -n <"$work/initramfs.cpio" >"$out/initramfs.cpio.gz.tmp" ||
    die "gzip failed"

vmlinux_sha=$(sha256sum "$out/vmlinux.tmp" | cut -d' ' -f1)
initramfs_sha=$(sha256sum "$out/initramfs.cpio.gz.tmp" | cut -d' ' -f1)
initramfs_size=$(wc -c <"$out/initramfs.cpio.gz.tmp" | tr -d ' ')
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
mv "$out/vmlinux.tmp" "$out/vmlinux"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
cat >"$out/manifest.json.tmp" <<EOF
{
  "kernel": {
    "package": "$pkg",
    "version": "$ver",
    "release": "$release",
    "vmlinux": "vmlinux",
    "vmlinux_sha256": "$vmlinux_sha"
  },
  "initramfs": {
    "file": "initramfs.cpio.gz",
    "sha256": "$initramfs_sha",
    "size": $initramfs_size
  },
  "busybox": {
    "package": "busybox-static",
    "version": "$bb_version"
  },
  "modules": [$modules_json],
  "agent": {
    "version": "$agent_version"
  },
  "built": "$built"
}
EOF
mv "$out/manifest.json.tmp" "$out/manifest.json"
echo "mkguest: $out/vmlinux, $out/initramfs.cpio.gz ($initramfs_size bytes)"

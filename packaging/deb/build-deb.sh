#!/bin/sh
# build-deb.sh ROOT OUTDIR VERSION GOARCH
#   Turns ROOT, a tree filled by `make install DESTDIR=ROOT` (so the files are
#   listed once, in the Makefile), into OUTDIR/lvsd_<debversion>_<arch>.deb
#   with dpkg-deb: control file, conffiles (everything under /etc) and the
#   maintainer scripts of this directory. Prints the .deb's path.
# build-deb.sh --debian-version DESCRIBE [COMMITS]
#   Prints the Debian version for a `git describe --always --dirty` string.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

# debian_version DESCRIBE COMMITS: a version dpkg accepts and orders the way
# the commits go. A native package has no revision, so its version has no
# "-": describe's "-N-gHASH" becomes "+N.gHASH" (after the tag, growing with
# N), "-rcN" becomes "~rcN" (before the release), "-dirty" ".dirty". Without
# a tag (describe is a bare hash) it is 0.0.0+gitCOMMITS.gHASH.
debian_version() {
	d=${1#v}
	# A bare abbreviated hash (no tag reachable) may start with a digit too.
	if printf '%s' "$d" | grep -Eqx '[0-9a-f]{7,40}(-dirty)?'; then
		d=0.0.0+git${2:-0}.g$(printf '%s' "$d" | sed 's/-/./g')
	fi
	case "$d" in
	0.0.0+git*) ;;
	[0-9]*)
		d=$(printf '%s' "$d" | sed -E 's/-(rc|beta|alpha)/~\1/; s/-/+/; s/-/./g')
		;;
	dev | "")
		d=0.0.0+dev
		;;
	*)
		d=0.0.0+git${2:-0}.g$(printf '%s' "$d" | sed 's/-/./g')
		;;
	esac
	# Anything else dpkg refuses in a version becomes ".".
	printf '%s\n' "$d" | sed 's/[^A-Za-z0-9.+~]/./g'
}

if [ "${1:-}" = --debian-version ]; then
	debian_version "$2" "${3:-0}"
	exit 0
fi

[ $# -eq 4 ] || { echo "usage: $0 ROOT OUTDIR VERSION GOARCH" >&2; exit 2; }
root=$1 out=$2 describe=$3 goarch=$4

commits=$(git rev-list --count HEAD 2>/dev/null || echo 0)
version=$(debian_version "$describe" "$commits")
case "$goarch" in
386) arch=i386 ;;
arm) arch=armhf ;;
*) arch=$goarch ;; # amd64, arm64, ppc64el is ppc64le below
esac
[ "$goarch" = ppc64le ] && arch=ppc64el

test -x "$root/usr/sbin/lvsd" || { echo "$0: $root/usr/sbin/lvsd missing: run make install DESTDIR=$root first" >&2; exit 1; }

# A cgo build links libc: depend on the newest GLIBC symbol version used.
depends=iptables
if readelf -d "$root/usr/sbin/lvsd" 2>/dev/null | grep -q 'NEEDED.*libc\.so'; then
	glibc=$(readelf -V "$root/usr/sbin/lvsd" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
	depends="libc6${glibc:+ (>= $glibc)}, $depends"
fi

# Debian policy files that are the package's, not the install's: changelog
# and copyright (policy 12.5, 12.7), lintian overrides, a stripped binary
# (policy 10.1; the unstripped one stays in bin/ for debugging).
doc=$root/usr/share/doc/lvsd
mkdir -p "$doc" "$root/usr/share/lintian/overrides"
when=$(git log -1 --format=%cD 2>/dev/null || date -R)
printf 'lvsd (%s) unstable; urgency=medium\n\n  * Built from git %s.\n\n -- lvsd developers <dev@lvsd.invalid>  %s\n' \
	"$version" "$describe" "$when" | gzip -9n >"$doc/changelog.gz"
install -m 0644 "$here/copyright" "$doc/copyright"
install -m 0644 "$here/lintian-overrides" "$root/usr/share/lintian/overrides/lvsd"
if command -v strip >/dev/null; then
	strip --strip-unneeded --remove-section=.comment "$root/usr/sbin/lvsd"
fi

rm -rf "$root/DEBIAN"
mkdir -p "$root/DEBIAN"
size=$(du -sk "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: lvsd
Version: $version
Architecture: $arch
Maintainer: lvsd developers <dev@lvsd.invalid>
Installed-Size: $size
Depends: $depends
Recommends: ipvsadm
Suggests: kmod
Section: net
Priority: optional
Description: LVS load balancer control plane (VRRP, IPVS, health checks)
 lvsd replaces keepalived on Linux load balancers: one binary, one HCL file.
 lvsd director runs VRRP (RFC 3768/5798, interoperable with keepalived),
 programs kernel IPVS over netlink, reconciles it against the kernel and
 health-checks the real servers (TCP, HTTP, TLS, MySQL, programs).
 lvsd agent keeps the iptables REDIRECT rule a direct-routing real server
 needs for the VIP.
 .
 The units lvsd-director and lvsd-agent are installed but neither enabled
 nor started: edit /etc/lvsd first.
CONTROL
(cd "$root" && find etc -type f | sort | sed 's|^|/|') >"$root/DEBIAN/conffiles"
for s in postinst prerm postrm; do
	install -m 0755 "$here/$s" "$root/DEBIAN/$s"
done

mkdir -p "$out"
deb="$out/lvsd_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"

#!/usr/bin/env bash
# Build dist/kanin_<version>_<arch>.deb from the one-folder build dist/kanin (`make deb`).
#
# Layout: the program under /opt/kanin, /usr/bin/kanin a symbolic link to it,
# the menu entry in /usr/share/applications, the icons in the hicolor theme,
# a manual page, the copyright file and changelog.Debian.gz in
# /usr/share/doc/kanin, and lintian overrides (with their reasons) for what is
# inherent to a PyInstaller bundle. No maintainer scripts: dpkg's file
# triggers update the menu and icon caches.
#
# Usage: packaging/deb/build-deb.sh [ONE_FOLDER_BUILD [OUTPUT_DIR]]
# Needs dpkg-deb, objdump (binutils) and patchelf.
# Environment: KANIN_DEB_REVISION (default 1), KANIN_DEB_LEVEL (xz level, default 1), SOURCE_DATE_EPOCH (default: the
# last commit's time, so two builds of one commit give the same file dates).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/dist/kanin}
out_dir=${2:-$root/dist}

die() { printf 'build-deb: %s\n' "$*" >&2; exit 1; }

[ -x "$build/kanin" ] || die "$build/kanin does not exist: run 'make package' first"
upstream=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "$root/pyproject.toml" | head -n 1)
[ -n "$upstream" ] || die "no version in pyproject.toml"
version="$upstream-${KANIN_DEB_REVISION:-1}"
changelog_version=$(sed -n '1s/^kanin (\([^)]*\)).*/\1/p' "$here/changelog")
[ "$changelog_version" = "$version" ] ||
  die "packaging/deb/changelog starts with $changelog_version, the package is $version: add an entry"
arch=$(dpkg --print-architecture)
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/kanin"
umask 022

# The program, with plain permissions: directories and executables 0755, the rest 0644.
install -d "$pkg/opt" "$pkg/usr/bin" "$pkg/DEBIAN"
cp -R "$build" "$pkg/opt/kanin"
find "$pkg/opt/kanin" -type d -exec chmod 0755 {} +
find "$pkg/opt/kanin" -type f -exec chmod 0644 {} +
chmod 0755 "$pkg/opt/kanin/kanin"
# The Python the build ran on may carry a RUNPATH to its own folder on the build
# machine (e.g. /root/.pyenv/versions/3.11.7/lib): meaningless on a user's
# machine, and a library there would be searched. Drop every RUNPATH that is
# not relative to the bundle ($ORIGIN...); the launcher finds the bundled
# libraries by itself.
elf_files() { find "$pkg/opt/kanin" -type f \( -name '*.so' -o -name '*.so.*' -o -path "$pkg/opt/kanin/kanin" \); }
while IFS= read -r elf; do
  rpath=$(patchelf --print-rpath "$elf" 2>/dev/null) || continue
  # shellcheck disable=SC2016 # a literal $ORIGIN, not a variable
  case "$rpath" in '' | '$ORIGIN'*) ;; *) patchelf --remove-rpath "$elf" ;; esac
done < <(elf_files)
# Policy 10.5: a link to another top-level directory is absolute.
ln -s /opt/kanin/kanin "$pkg/usr/bin/kanin"

# Menu entry, icons, manual page, documentation, lintian overrides.
install -D -m 0644 "$root/resources/kanin.desktop" "$pkg/usr/share/applications/kanin.desktop"
for png in "$root"/resources/kanin-*.png; do
  size=$(basename "$png" .png); size=${size#kanin-}
  install -D -m 0644 "$png" "$pkg/usr/share/icons/hicolor/${size}x${size}/apps/kanin.png"
done
install -D -m 0644 "$root/resources/kanin.svg" "$pkg/usr/share/icons/hicolor/scalable/apps/kanin.svg"
install -d "$pkg/usr/share/man/man1" "$pkg/usr/share/doc/kanin" "$pkg/usr/share/lintian/overrides"
gzip -9n < "$here/kanin.1" > "$pkg/usr/share/man/man1/kanin.1.gz"
gzip -9n < "$here/changelog" > "$pkg/usr/share/doc/kanin/changelog.Debian.gz"
install -m 0644 "$here/copyright" "$pkg/usr/share/doc/kanin/copyright"
install -m 0644 "$here/kanin.lintian-overrides" "$pkg/usr/share/lintian/overrides/kanin"
chmod 0644 "$pkg"/usr/share/man/man1/kanin.1.gz "$pkg"/usr/share/doc/kanin/changelog.Debian.gz

# What the bundle takes from the system (found with objdump on every bundled
# ELF file: the libraries it needs that are not in the bundle, and glibc's
# newest symbol version), plus fonts and fontconfig's configuration, which Qt
# needs to draw any text.
# Every library the bundle needs and does not carry must be in this map, or the
# build stops: a new system dependency cannot slip in unnoticed.
declare -A system_package=(
  [libc.so.6]=libc6 [libm.so.6]=libc6 [libdl.so.2]=libc6 [libpthread.so.0]=libc6
  [librt.so.1]=libc6 [libutil.so.1]=libc6 [ld-linux-x86-64.so.2]=libc6
  [libGL.so.1]=libgl1 [libEGL.so.1]=libegl1 [libGLX.so.0]=libglx0 [libOpenGL.so.0]=libopengl0
  [libxcb.so.1]=libxcb1 [libwayland-client.so.0]=libwayland-client0
  [libwayland-cursor.so.0]=libwayland-cursor0 [libwayland-egl.so.1]=libwayland-egl1
)
bundled=$(find "$pkg/opt/kanin" -name '*.so*' -printf '%f\n' | sort -u)
needed=$(elf_files | xargs objdump -p 2>/dev/null | awk '$1 == "NEEDED" {print $2}' | sort -u)
glibc=$(elf_files | xargs objdump -T 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' |
  sort -uV | tail -n 1)
[ -n "$glibc" ] || die "could not read glibc's symbol versions (is binutils installed?)"
declare -A wanted=([libc6]="libc6 (>= $glibc)")
for soname in $(comm -23 <(printf '%s\n' "$needed") <(printf '%s\n' "$bundled")); do
  package=${system_package[$soname]:-}
  [ -n "$package" ] || die "the bundle needs $soname from the system: add its package to system_package"
  [ -n "${wanted[$package]:-}" ] || wanted[$package]=$package
done
depends=$(printf '%s\n' "${wanted[@]}" | sort | paste -sd, | sed 's/,/, /g')
depends="$depends, fontconfig-config, fonts-dejavu-core | fonts-liberation2 | fonts-freefont-ttf"
installed_size=$(du -sk --apparent-size "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$installed_size/" \
  -e "s/@DEPENDS@/$depends/" "$here/control.in" > "$pkg/DEBIAN/control"
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 md5sum) > "$pkg/DEBIAN/md5sums"
chmod 0644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/md5sums"

mkdir -p "$out_dir"
deb="$out_dir/kanin_${version}_${arch}.deb"
# xz at level 1: 40 MB in about 100 s on this shared machine; level 6 (dpkg's
# default) saves 4 MB but took 6.5 min. lintian rejects zstd members
# (malformed-deb-archive), though dpkg reads them. KANIN_DEB_LEVEL=6 for the smallest.
dpkg-deb --root-owner-group -Zxz -z"${KANIN_DEB_LEVEL:-1}" \
  --build "$pkg" "$deb" >/dev/null
printf 'built %s (%s, installs %s MiB)\n' "$deb" "$(du -h "$deb" | cut -f1)" "$((installed_size / 1024))"

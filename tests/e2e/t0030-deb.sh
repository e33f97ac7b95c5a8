#!/bin/sh
# ctest-labels: slow
# shellcheck disable=SC2016,SC2317,SC2034 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# The Debian packages: dpkg-buildpackage -us -uc -b over a copy of the
# tree builds zenc, libzenc0 and libzenc-dev with Debian's default
# (hardened) build flags; unpacked into an empty folder, they hold what
# each should, and the README's pkg-config program and a CMake project
# build against them and run.
# Needs dpkg-dev, debhelper and fakeroot (and the build dependencies in
# debian/control, which scripts/install-deps.sh installs).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

CC=${CC:-cc}

if [ -n "${ASAN_OPTIONS:-}" ]; then
	test_skip_all 'the packages are checked by the run without sanitizers'
fi
for tool in dpkg-buildpackage dh fakeroot; do
	command -v "$tool" >/dev/null 2>&1 ||
		test_skip_all "no $tool: apt-get install dpkg-dev debhelper fakeroot"
done

arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
version=$(sed -n '1s/^zenc (\([^)]*\)).*/\1/p' "$ZENC_SOURCE/debian/changelog")
root=$TMP/root

test_expect_success 'dpkg-buildpackage builds zenc, libzenc0 and libzenc-dev' '
	mkdir src &&
	if git -C "$ZENC_SOURCE" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$ZENC_SOURCE" && git ls-files -co --exclude-standard -z |
			tar --null --ignore-failed-read -T - -cf -) | tar -C src -xf -
	else
		(cd "$ZENC_SOURCE" && tar --exclude="./build*" -cf - .) |
			tar -C src -xf -
	fi &&
	test -f src/debian/control &&
	(cd src && dpkg-checkbuilddeps) &&
	(cd src && DEB_BUILD_OPTIONS="nocheck parallel=2" \
		dpkg-buildpackage -us -uc -b) >build.log 2>&1 ||
		{ tail -n 60 build.log; false; }
	for p in zenc libzenc0 libzenc-dev; do
		test -f "${p}_${version}_$(dpkg --print-architecture).deb" || return 1
	done
'

deb () {
	echo "$TMP/${1}_${version}_$(dpkg --print-architecture).deb"
}

if ! [ -f "$(deb libzenc-dev)" ]; then
	test_skip_all 'the packages did not build'
fi

test_expect_success 'each package holds its part' '
	dpkg-deb -c "$(deb zenc)" | awk "{ print \$6 }" >zenc.list &&
	dpkg-deb -c "$(deb libzenc0)" | awk "{ print \$6 }" >lib.list &&
	dpkg-deb -c "$(deb libzenc-dev)" | awk "{ print \$6 }" >dev.list &&
	test_grep "^\./usr/bin/zenc\$" zenc.list &&
	test_grep "^\./usr/share/man/man1/zenc\.1\.gz\$" zenc.list &&
	test_grep "^\./usr/share/man/man1/zenc-run\.1\.gz\$" zenc.list &&
	test_grep "^\./usr/share/man/man5/zenc\.yaml\.5\.gz\$" zenc.list &&
	test_grep "^\./usr/share/bash-completion/completions/zenc\$" zenc.list &&
	test_grep "^\./usr/share/zsh/vendor-completions/_zenc\$" zenc.list &&
	test_grep "^\./usr/share/doc/zenc/copyright\$" zenc.list &&
	test_grep "^\./usr/lib/$arch/libzenc\.so\.0\$" lib.list &&
	test_grep ! -e "/include/" -e "\.a\$" -e "bin/" lib.list &&
	test_grep "^\./usr/include/zenc\.h\$" dev.list &&
	test_grep "^\./usr/include/zenc/pipeline\.h\$" dev.list &&
	test_grep "^\./usr/lib/$arch/libzenc\.so\$" dev.list &&
	test_grep "^\./usr/lib/$arch/libzenc\.a\$" dev.list &&
	test_grep "^\./usr/lib/$arch/pkgconfig/zenc\.pc\$" dev.list &&
	test_grep "^\./usr/lib/$arch/cmake/zenc/zencConfigVersion\.cmake\$" dev.list &&
	test_grep "^\./usr/share/man/man3/libzenc\.3\.gz\$" dev.list &&
	dpkg-deb -f "$(deb libzenc-dev)" Depends >depends &&
	test_grep -F "libzenc0 (= $version)" depends &&
	dpkg-deb -f "$(deb zenc)" Depends >depends &&
	test_grep -F "libzenc0 (= $version)" depends &&
	dpkg-deb -f "$(deb libzenc0)" Depends >depends &&
	test_grep "libsqlite3-0" depends
'

test_expect_success 'built with the hardening flags' '
	test_grep -e "-D_FORTIFY_SOURCE=2 .*src/lib/pipeline\.c" build.log &&
	test_grep -e "-fstack-protector-strong .*src/cli/main\.c" build.log &&
	mkdir -p "$root" &&
	for p in zenc libzenc0 libzenc-dev; do
		dpkg -x "$(deb $p)" "$root" || return 1
	done &&
	readelf --dyn-syms -W "$root/usr/lib/$arch/libzenc.so.0" >syms &&
	test_grep "__[a-z_]*_chk@" syms &&
	readelf -h "$root/usr/bin/zenc" >head &&
	test_grep "DYN (Position-Independent" head &&
	readelf -d "$root/usr/bin/zenc" >dyn &&
	test_grep "BIND_NOW" dyn &&
	readelf -l "$root/usr/bin/zenc" >seg &&
	test_grep "GNU_RELRO" seg
'

test_expect_success 'the unpacked zenc runs and has its man pages' '
	env -i PATH=/usr/bin:/bin "$root/usr/bin/zenc" --help >help &&
	test_grep "^commands:" help &&
	if command -v man >/dev/null 2>&1; then
		MANWIDTH=250 man -P cat -l "$root/usr/share/man/man1/zenc.1.gz" >zenc.txt &&
		MANWIDTH=250 man -P cat -l "$root/usr/share/man/man5/zenc.yaml.5.gz" >yaml.txt
	else
		gzip -dc "$root/usr/share/man/man1/zenc.1.gz" >zenc.txt &&
		gzip -dc "$root/usr/share/man/man5/zenc.yaml.5.gz" >yaml.txt
	fi &&
	for v in $(awk "/^commands:/ { on = 1; next } on && /^\$/ { exit }
			on && /^  [a-z]/ { print \$1 }" help); do
		test_grep -q "zenc $v" zenc.txt || return 1
	done &&
	test_grep "memory_limit" yaml.txt
'

cat >prog.c <<\EOF
#include <zenc.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	zenc_pipeline *p = NULL;

	if (strcmp(zenc_version(), ZENC_VERSION) != 0)
		return 1;
	if (zenc_pipeline_new(&p, "deb_check") != 0)
		return 1;
	printf("%s %s\n", zenc_version(), zenc_pipeline_name(p));
	zenc_pipeline_free(p);
	return 0;
}
EOF

test_expect_success 'the README program builds against the unpacked packages' '
	PKG_CONFIG_PATH=$root/usr/lib/$arch/pkgconfig &&
	export PKG_CONFIG_PATH &&
	inc=$(pkg-config --cflags-only-I zenc | sed "s/^ *-I//; s/ *\$//") &&
	test "$(readlink -f "$inc")" = "$(readlink -f "$root/usr/include")" &&
	$CC -std=c11 -Wall -Werror -o prog prog.c \
		$(pkg-config --cflags --libs zenc) \
		-Wl,-rpath,"$(pkg-config --variable=libdir zenc)" &&
	env -u LD_LIBRARY_PATH ./prog >out &&
	echo "$(pkg-config --modversion zenc) deb_check" >expect &&
	test_cmp expect out &&
	env -u LD_LIBRARY_PATH ldd ./prog >ldd.out &&
	so=$(sed -n "s/^.*libzenc.so.0 => \([^ ]*\) .*/\1/p" ldd.out) &&
	test "$(readlink -f "$so")" = \
		"$(readlink -f "$root/usr/lib/$arch/libzenc.so.0")"
'

test_expect_success 'a CMake project finds the unpacked package, static and shared' '
	mkdir -p user &&
	cp prog.c user/ &&
	cat >user/CMakeLists.txt <<-\EOF &&
	cmake_minimum_required(VERSION 3.16)
	project(user C)
	find_package(zenc 0.1 REQUIRED)
	add_executable(prog prog.c)
	target_link_libraries(prog PRIVATE zenc::zenc)
	add_executable(sprog prog.c)
	target_link_libraries(sprog PRIVATE zenc::zenc_static)
	EOF
	{ cmake -S user -B user/b -DCMAKE_PREFIX_PATH="$root/usr" &&
	  cmake --build user/b; } >user.log 2>&1 || { cat user.log; false; }
	LD_LIBRARY_PATH=$root/usr/lib/$arch user/b/prog >out &&
	test_grep " deb_check\$" out &&
	env -u LD_LIBRARY_PATH user/b/sprog >out &&
	test_grep " deb_check\$" out
'

test_done

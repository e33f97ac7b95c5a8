#!/bin/sh
# shellcheck disable=SC2016,SC2317,SC2034 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# The installed tree, used the way the README tells a user to: build and
# install with CMake, then compile against it with pkg-config (and with
# find_package), in C11, C99 and C++.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

CC=${CC:-cc}
CXX=${CXX:-c++}

if [ -n "${ASAN_OPTIONS:-}" ]; then
	# Nothing here runs instrumented code: the plain run covers it.
	test_skip_all 'the install is checked by the run without sanitizers'
fi
prefix=$TMP/prefix
# What every compile of user code here insists on: the headers are clean.
cwarn="-Wall -Wextra -Wpedantic -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow"
cxxwarn="-Wall -Wextra -Wpedantic -Werror -Wshadow"

# zenc_pkg_config ARG...: pkg-config over the installed zenc.pc.
zenc_pkg_config () {
	pc=$(find "$prefix" -name zenc.pc | head -n 1)
	test -n "$pc" || {
		echo "no zenc.pc under $prefix" >&2
		return 1
	}
	PKG_CONFIG_PATH=${pc%/*} pkg-config "$@" zenc
}

test_expect_success 'configure, build and install into a prefix' '
	cmake -S "$ZENC_SOURCE" -B "$TMP/b" -DZENC_TESTS=OFF -DZENC_EXAMPLES=OFF \
		>configure.log 2>&1 || { cat configure.log; false; }
	cmake --build "$TMP/b" -j 2 >build.log 2>&1 || { cat build.log; false; }
	cmake --install "$TMP/b" --prefix "$prefix" >install.log 2>&1 ||
		{ cat install.log; false; }
	test -f "$prefix/include/zenc.h" &&
	test -d "$prefix/include/zenc" &&
	test -x "$prefix/bin/zenc" &&
	test -n "$(find "$prefix" -name "libzenc.so*" -type f)" &&
	test -n "$(find "$prefix" -name libzenc.a)" &&
	test -n "$(find "$prefix" -name zenc.pc)"
'

if ! [ -f "$prefix/include/zenc.h" ]; then
	for t in 'pkg-config points into the prefix' \
		'pkg-config and the zenc command agree on the version' \
		'a C11 program builds against the installed tree and runs' \
		'the program uses the installed library' \
		'each installed header compiles alone as C11, C99 and C++' \
		'C99 code builds without ZENC_HOOK, using zenc_hook_ctx' \
		'C++ code builds with ZENC_HOOK and runs' \
		'a CMake project finds the installed package'; do
		test_skip "$t" 'nothing was installed'
	done
	test_done
fi

# Where the shared library went (lib or lib/x86_64-linux-gnu).
libdir () {
	so=$(find "$prefix" -name "libzenc.so*" | head -n 1) &&
	echo "${so%/*}"
}

test_expect_success 'pkg-config points into the prefix' '
	inc=$(zenc_pkg_config --cflags-only-I | sed "s/^ *-I//; s/ *\$//") &&
	echo "include dir: $inc" &&
	{ test -f "$inc/zenc.h" || {
		echo "zenc.pc does not follow cmake --install --prefix: is its"
		echo "prefix the configure-time CMAKE_INSTALL_PREFIX? (\${pcfiledir}"
		echo "makes it relocatable)"
		false
	}; } &&
	test "$(cd "$inc" && pwd -P)" = "$(cd "$prefix/include" && pwd -P)" &&
	lib=$(zenc_pkg_config --libs-only-L | sed "s/^ *-L//; s/ *\$//") &&
	echo "library dir: $lib" &&
	test "$(cd "$lib" && pwd -P)" = "$(cd "$(libdir)" && pwd -P)" &&
	zenc_pkg_config --libs-only-l >libs &&
	test_grep -e "-lzenc\>" libs
'

test_expect_success 'pkg-config and the zenc command agree on the version' '
	"$prefix/bin/zenc" version >version &&
	test_grep -F "$(zenc_pkg_config --modversion)" version
'

cat >prog.c <<\EOF
#include <zenc.h>
#include <stdio.h>
#include <string.h>

static void on_failure(zenc_step_context *ctx)
{
	(void)ctx;
}

int main(void)
{
	zenc_pipeline *p = NULL;
	zenc_hook h = ZENC_HOOK(on_failure);

	if (strcmp(zenc_version(), ZENC_VERSION) != 0) {
		fprintf(stderr, "library %s, header %s\n", zenc_version(),
			ZENC_VERSION);
		return 1;
	}
	if (h.kind != ZENC_HOOK_CTX || strcmp(h.name, "on_failure") != 0) {
		fprintf(stderr, "ZENC_HOOK gave kind %d name %s\n", (int)h.kind,
			h.name ? h.name : "(null)");
		return 1;
	}
	if (zenc_pipeline_new(&p, "install_check") != 0) {
		fprintf(stderr, "zenc_pipeline_new failed\n");
		return 1;
	}
	if (zenc_pipeline_on_failure(p, h) != 0) {
		fprintf(stderr, "zenc_pipeline_on_failure failed\n");
		return 1;
	}
	printf("%s %s\n", zenc_version(), zenc_pipeline_name(p));
	zenc_pipeline_free(p);
	zenc_pipeline_free(NULL);
	return 0;
}
EOF

test_expect_success 'a C11 program builds against the installed tree and runs' '
	$CC -std=c11 $cwarn -o prog prog.c $(zenc_pkg_config --cflags --libs) &&
	LD_LIBRARY_PATH=$(libdir) ./prog >out &&
	echo "$(zenc_pkg_config --modversion) install_check" >expect &&
	test_cmp expect out
'

test_expect_success 'the program uses the installed library' '
	LD_LIBRARY_PATH=$(libdir) ldd ./prog >ldd.out &&
	test_grep -F "$(libdir)/libzenc.so" ldd.out
'

# Every installed header on its own, so each is self-contained.
test_expect_success 'each installed header compiles alone as C11, C99 and C++' '
	(cd "$prefix/include" && find . -name "*.h" | sed "s|^\./||" | sort) >headers &&
	test_grep "^zenc\.h\$" headers &&
	test_grep "^zenc/pipeline\.h\$" headers &&
	bad= &&
	while read -r h; do
		printf "#include <%s>\n" "$h" >one.c
		$CC -std=c11 $cwarn -I"$prefix/include" -c -o one.o one.c ||
			bad="$bad C11:$h"
		$CC -std=c99 $cwarn -I"$prefix/include" -c -o one.o one.c ||
			bad="$bad C99:$h"
		$CXX -x c++ $cxxwarn -I"$prefix/include" -c -o one.o one.c ||
			bad="$bad C++:$h"
	done <headers &&
	echo "headers that do not compile alone:${bad:- none}" &&
	test -z "$bad"
'

test_expect_success 'C99 code builds without ZENC_HOOK, using zenc_hook_ctx' '
	cat >c99.c <<-\EOF &&
	#include <zenc.h>
	#include <stdio.h>

	static void on_failure(zenc_step_context *ctx)
	{
		(void)ctx;
	}

	int main(void)
	{
		zenc_pipeline *p = NULL;
		zenc_hook h = zenc_hook_ctx(on_failure, "on_failure");

		if (zenc_pipeline_new(&p, "c99") != 0)
			return 1;
		if (zenc_pipeline_on_failure(p, h) != 0)
			return 1;
		printf("%s\n", zenc_pipeline_name(p));
		zenc_pipeline_free(p);
		return 0;
	}
	EOF
	$CC -std=c99 $cwarn -o c99 c99.c $(zenc_pkg_config --cflags --libs) &&
	LD_LIBRARY_PATH=$(libdir) ./c99 >out &&
	test "$(cat out)" = c99
'

test_expect_success 'C++ code builds with ZENC_HOOK and runs' '
	cat >cxx.cc <<-\EOF &&
	#include <zenc.h>
	#include <cstdio>
	#include <cstring>

	static void on_failure(zenc_step_context *) {}
	static void on_run(const zenc_run *) {}

	int main()
	{
		zenc_pipeline *p = nullptr;
		zenc_hook a = ZENC_HOOK(on_failure);
		zenc_hook b = ZENC_HOOK(on_run);

		if (a.kind != ZENC_HOOK_CTX || std::strcmp(a.name, "on_failure"))
			return 1;
		if (b.kind != ZENC_HOOK_RUN || std::strcmp(b.name, "on_run"))
			return 1;
		if (zenc_pipeline_new(&p, "cxx") != 0)
			return 1;
		if (zenc_pipeline_on_failure(p, a) != 0)
			return 1;
		std::printf("%s\n", zenc_pipeline_name(p));
		zenc_pipeline_free(p);
		return 0;
	}
	EOF
	$CXX -std=c++11 $cxxwarn -o cxx cxx.cc $(zenc_pkg_config --cflags --libs) &&
	LD_LIBRARY_PATH=$(libdir) ./cxx >out &&
	test "$(cat out)" = cxx
'

test_expect_success 'a CMake project finds the installed package' '
	mkdir -p user &&
	cp prog.c user/ &&
	cat >user/CMakeLists.txt <<-\EOF &&
	cmake_minimum_required(VERSION 3.16)
	project(user C)
	find_package(zenc REQUIRED)
	add_executable(prog prog.c)
	target_link_libraries(prog PRIVATE zenc::zenc)
	EOF
	{ cmake -S user -B user/b -DCMAKE_PREFIX_PATH="$prefix" &&
	  cmake --build user/b; } >user.log 2>&1 || { cat user.log; false; }
	LD_LIBRARY_PATH=$(libdir) user/b/prog >out &&
	test_grep " install_check\$" out
'

test_done

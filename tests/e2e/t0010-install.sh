#!/bin/sh
# shellcheck disable=SC2016,SC2317,SC2034 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# The installed tree, used the way the README tells a user to: build and
# install with CMake into a prefix the loader does not search, then
# compile against it with pkg-config (with an rpath, or LD_LIBRARY_PATH)
# and with find_package (shared and static targets), in C11, C99 and C++;
# the man pages and completion installed with it cover every verb of
# `zenc --help`.
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
	test -n "$(find "$prefix" -name zenc.pc)" &&
	test -f "$prefix/share/man/man1/zenc.1" &&
	test -f "$prefix/share/man/man5/zenc.yaml.5" &&
	test -f "$prefix/share/man/man3/libzenc.3" &&
	test -f "$prefix/share/bash-completion/completions/zenc" &&
	test -f "$prefix/share/zsh/site-functions/_zenc" &&
	test -f "$prefix/share/doc/zenc/LICENSE"
'

if ! [ -f "$prefix/include/zenc.h" ]; then
	for t in 'pkg-config points into the prefix' \
		'pkg-config and the zenc command agree on the version' \
		'a C11 program builds against the installed tree and runs' \
		'the program uses the installed library' \
		'each installed header compiles alone as C11, C99 and C++' \
		'C99 code builds without ZENC_HOOK, using zenc_hook_ctx' \
		'C++ code builds with ZENC_HOOK and runs' \
		'a CMake project finds the installed package' \
		'the installed zenc runs from the prefix with nothing set' \
		'the installed zenc links the installed libzenc, found from its place' \
		'the README program runs through its rpath' \
		'without an rpath or LD_LIBRARY_PATH the loader cannot find it' \
		'find_package(zenc 0.1) takes the version; 1.0 and 0.2 are refused' \
		'zenc::zenc_static links in a consumer project' \
		'pkg-config --static names what the static library needs' \
		'a man page for zenc and for each verb of zenc --help' \
		'the man pages carry every option of each --help' \
		'man finds zenc, zenc.yaml and libzenc under the prefix' \
		'bash completion offers every verb, sub-verb and option' \
		'zsh completion names every verb'; do
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

# The verbs `zenc --help` lists, one a line.
"$prefix/bin/zenc" --help | awk '/^commands:/ { on = 1; next }
	on && /^$/ { exit } on && /^  [a-z]/ { print $1 }' >verbs

test_expect_success 'the installed zenc runs from the prefix with nothing set' '
	env -i PATH=/usr/bin:/bin "$prefix/bin/zenc" --help >help &&
	test_grep "^commands:" help &&
	test "$(wc -l <verbs)" -ge 10 &&
	ldd "$prefix/bin/zenc" >ldd.out &&
	test_grep ! "not found" ldd.out
'

test_expect_success 'the installed zenc links the installed libzenc, found from its place' '
	readelf -d "$prefix/bin/zenc" >dyn &&
	test_grep "NEEDED.*\[libzenc\.so\.0\]" dyn &&
	rel=$(libdir) && rel=${rel#"$prefix"/} &&
	test_grep -F "Library runpath: [\$ORIGIN/../$rel]" dyn &&
	env -i PATH=/usr/bin:/bin ldd "$prefix/bin/zenc" >ldd.out &&
	so=$(sed -n "s/^.*libzenc.so.0 => \([^ ]*\) .*/\1/p" ldd.out) &&
	test "$(readlink -f "$so")" = "$(readlink -f "$(libdir)/libzenc.so.0")" &&
	cp -R "$prefix" "$TMP/moved" &&
	env -i PATH=/usr/bin:/bin ldd "$TMP/moved/bin/zenc" >ldd.out &&
	so=$(sed -n "s/^.*libzenc.so.0 => \([^ ]*\) .*/\1/p" ldd.out) &&
	case $(readlink -f "$so") in
	"$(readlink -f "$TMP/moved")"/*) ;;
	*) echo "the moved zenc loads $so"; false ;;
	esac &&
	env -i PATH=/usr/bin:/bin "$TMP/moved/bin/zenc" version >version &&
	test_grep -F "$(zenc_pkg_config --modversion)" version
'

test_expect_success 'the README program runs through its rpath' '
	$CC -std=c11 $cwarn -o rprog prog.c $(zenc_pkg_config --cflags --libs) \
		-Wl,-rpath,"$(zenc_pkg_config --variable=libdir)" &&
	env -u LD_LIBRARY_PATH ./rprog >out &&
	test_grep " install_check\$" out &&
	env -u LD_LIBRARY_PATH ldd ./rprog >ldd.out &&
	so=$(sed -n "s/^.*libzenc.so.0 => \([^ ]*\) .*/\1/p" ldd.out) &&
	echo "libzenc.so.0 from: $so" &&
	test "$(readlink -f "$so")" = "$(readlink -f "$(libdir)/libzenc.so.0")"
'

test_expect_success 'without an rpath or LD_LIBRARY_PATH the loader cannot find it' '
	env -u LD_LIBRARY_PATH ldd ./prog >ldd.out &&
	test_grep "libzenc.so.0 => not found" ldd.out &&
	test_expect_code 127 env -u LD_LIBRARY_PATH ./prog 2>err &&
	test_grep "libzenc.so.0" err
'

# cmake_user NAME: configures and builds the project in NAME/ against the
# prefix; its log is NAME.log.
cmake_user () {
	{ cmake -S "$1" -B "$1/b" -DCMAKE_PREFIX_PATH="$prefix" &&
	  cmake --build "$1/b"; } >"$1.log" 2>&1
}

test_expect_success 'find_package(zenc 0.1) takes the version; 1.0 and 0.2 are refused' '
	for v in 0.1 0.1.0 1.0 0.2; do
		mkdir -p "v$v" &&
		cp prog.c "v$v/" &&
		sed "s/@V@/$v/" >"v$v/CMakeLists.txt" <<-\EOF || return 1
		cmake_minimum_required(VERSION 3.16)
		project(user C)
		find_package(zenc @V@ REQUIRED)
		message(STATUS "zenc version ${zenc_VERSION}")
		add_executable(prog prog.c)
		target_link_libraries(prog PRIVATE zenc::zenc)
		EOF
	done &&
	cmake_user v0.1 || { cat v0.1.log; false; }
	test_grep "zenc version 0.1.0" v0.1.log &&
	cmake_user v0.1.0 || { cat v0.1.0.log; false; }
	LD_LIBRARY_PATH=$(libdir) v0.1/b/prog >out &&
	test_grep " install_check\$" out &&
	test_must_fail cmake_user v1.0 &&
	test_grep "requested version \"1.0\"" v1.0.log &&
	test_grep "zencConfig.cmake, version: 0.1.0" v1.0.log &&
	test_must_fail cmake_user v0.2
'

# A program that runs a pipeline: it needs the store (SQLite), so a static
# link must bring in what the library depends on.
cat >run.c <<\EOF
#include <zenc.h>

static int hello(zenc_step_context *ctx)
{
	return zenc_output_int(ctx, "n", 42);
}

int main(int argc, char **argv)
{
	zenc_pipeline *p;
	zenc_step *s;
	int rc;

	if (zenc_pipeline_new(&p, "static_check") != 0)
		return 10;
	if (zenc_pipeline_add_step(&s, p, "hello", hello) != 0)
		return 11;
	if (zenc_step_add_output(s, "n", ZENC_INT) != 0)
		return 12;
	rc = zenc_main(p, argc, argv);
	zenc_pipeline_free(p);
	return rc;
}
EOF

test_expect_success 'zenc::zenc_static links in a consumer project' '
	mkdir -p static &&
	cp run.c static/ &&
	cat >static/CMakeLists.txt <<-\EOF &&
	cmake_minimum_required(VERSION 3.16)
	project(user C)
	find_package(zenc 0.1 REQUIRED)
	add_executable(run run.c)
	target_link_libraries(run PRIVATE zenc::zenc_static)
	EOF
	cmake_user static || { cat static.log; false; }
	readelf -d static/b/run >dyn &&
	test_grep ! "libzenc" dyn &&
	test_grep "libsqlite3" dyn &&
	env -u LD_LIBRARY_PATH static/b/run run --run-name s1 >out 2>&1 &&
	"$prefix/bin/zenc" runs show s1 >show &&
	test_grep "hello" show &&
	# without pkg-config, SQLite and libyaml are linked by their names
	{ cmake -S static -B static/nopc -DCMAKE_PREFIX_PATH="$prefix" \
		-DPKG_CONFIG_EXECUTABLE=/nonexistent/pkg-config &&
	  cmake --build static/nopc; } >nopc.log 2>&1 || { cat nopc.log; false; }
	env -u LD_LIBRARY_PATH static/nopc/run validate >out 2>&1 ||
		{ cat out; false; }
'

test_expect_success 'pkg-config --static names what the static library needs' '
	zenc_pkg_config --static --libs >libs &&
	test_grep -e "-lsqlite3" libs &&
	test_grep -e "-lyaml" libs &&
	$CC -std=c11 $cwarn -o srun run.c $(zenc_pkg_config --cflags) \
		"$(libdir)/libzenc.a" $(zenc_pkg_config --static --libs | sed "s/-lzenc//") &&
	env -u LD_LIBRARY_PATH ./srun run --run-name s2 >out 2>&1 &&
	"$prefix/bin/zenc" runs show s2 >show &&
	test_grep "hello" show
'

# render PAGE: the page as text, by man when it is there, else groff.
if command -v man >/dev/null 2>&1; then
	render () { MANWIDTH=250 man -P cat -l "$1" 2>&1; }
elif command -v groff >/dev/null 2>&1; then
	render () { groff -man -Tascii -rLL=250n "$1" 2>&1 | col -b; }
else
	render () { cat "$1"; }
fi
man1=$prefix/share/man/man1

test_expect_success 'a man page for zenc and for each verb of zenc --help' '
	render "$man1/zenc.1" >zenc.txt &&
	test_grep "^NAME" zenc.txt &&
	test_grep "^COMMANDS" zenc.txt &&
	test_grep "zenc.yaml(5)" zenc.txt &&
	missing= &&
	while read -r v; do
		test_grep -q "^   zenc $v\$" zenc.txt || missing="$missing zenc.1:$v"
		test -f "$man1/zenc-$v.1" || { missing="$missing zenc-$v.1"; continue; }
		render "$man1/zenc-$v.1" >"man-$v.txt"
		grep -q "^NAME" "man-$v.txt" || missing="$missing zenc-$v.1:NAME"
		grep -q "usage: zenc $v" "man-$v.txt" ||
			missing="$missing zenc-$v.1:usage"
	done <verbs &&
	echo "missing:${missing:- nothing}" &&
	test -z "$missing" &&
	render "$man1/zenc-run.1" >run.txt &&
	test_grep -e "--dry-run" run.txt
'

# Every option that `zenc VERB --help` or `zenc VERB SUB --help` names is
# in the man pages: they are made from that output, not from a copy.
test_expect_success 'the man pages carry every option of each --help' '
	missing= &&
	while read -r v; do
		"$prefix/bin/zenc" "$v" --help >h &&
		subs=$(sed -n "s/^ *\(usage\|or\): zenc $v \([a-z][a-z-]*\).*/\2/p" h) &&
		for s in "" $subs; do
			"$prefix/bin/zenc" $v $s --help >>h 2>/dev/null || :
		done &&
		for o in $(grep -o -e "--[a-z][a-z0-9-]*" h | sort -u); do
			grep -q -e "$o" "man-$v.txt" || missing="$missing zenc-$v:$o"
		done
	done <verbs &&
	echo "missing:${missing:- nothing}" &&
	test -z "$missing"
'

test_expect_success 'man finds zenc, zenc.yaml and libzenc under the prefix' '
	if ! command -v man >/dev/null 2>&1; then
		echo "man is not installed: the pages are checked as files" &&
		render "$prefix/share/man/man5/zenc.yaml.5" >yaml.txt &&
		render "$prefix/share/man/man3/libzenc.3" >lib.txt
	else
		MANPATH=$prefix/share/man MANWIDTH=250 man -P cat zenc >z.txt 2>&1 &&
		test_grep "^COMMANDS" z.txt &&
		MANPATH=$prefix/share/man MANWIDTH=250 man -P cat zenc.yaml >yaml.txt 2>&1 &&
		MANPATH=$prefix/share/man MANWIDTH=250 man -P cat libzenc >lib.txt 2>&1 &&
		MANPATH=$prefix/share/man man -w zenc-run >where &&
		test_grep -F "$prefix/share/man/man1/zenc-run.1" where
	fi &&
	test_grep "^ZENC.YAML(5)" yaml.txt &&
	test_grep "on_failure" yaml.txt &&
	test_grep "memory_limit" yaml.txt &&
	test_grep "^LIBZENC(3)" lib.txt &&
	test_grep "zenc_pipeline_new" lib.txt &&
	test_grep "rpath" lib.txt
'

test_expect_success 'bash completion offers every verb, sub-verb and option' '
	command -v bash >/dev/null || { echo "no bash"; false; }
	cat >complete.bash <<-\EOF &&
	. "$1"
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	_zenc
	printf "%s\n" "${COMPREPLY[@]}"
	EOF
	comp=$prefix/share/bash-completion/completions/zenc &&
	bash complete.bash "$comp" zenc "" >all &&
	sort verbs >want &&
	grep -v -e "^-" all | sort >got &&
	test_cmp want got &&
	bash complete.bash "$comp" zenc runs "" >runs &&
	for s in list show delete report dag cancel; do
		test_grep "^$s\$" runs || return 1
	done &&
	bash complete.bash "$comp" zenc run --dr >opt &&
	test_grep "^--dry-run\$" opt &&
	bash complete.bash "$comp" zenc runs list --js >opt &&
	test_grep "^--json\$" opt
'

test_expect_success 'zsh completion names every verb' '
	comp=$prefix/share/zsh/site-functions/_zenc &&
	test_grep "^#compdef zenc" "$comp" &&
	while read -r v; do
		test_grep -q "^		.$v:" "$comp" || return 1
	done <verbs &&
	if command -v zsh >/dev/null 2>&1; then zsh -n "$comp"; fi
'

test_done

#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# The C sources follow .clang-format: every .c and .h file of the
# repository (outside build trees) is as `clang-format` would write it.
# Run `clang-format -i FILE` to fix one.  Needs Debian's clang-format
# (scripts/install-deps.sh --test); without it the script is skipped, or
# fails under CI (CI=true).
. "$(dirname "$0")/lib.sh"

if ! command -v clang-format >/dev/null 2>&1; then
	if [ "${CI:-}" = true ]; then
		test_expect_success 'clang-format is installed' '
			echo "clang-format is missing (scripts/install-deps.sh --test)"
			false
		'
		test_done
	fi
	test_skip_all "clang-format is not installed (scripts/install-deps.sh --test)"
fi

# c_files DIR: the C sources under DIR, build trees left out.
c_files () {
	(cd "$1" && find . \( -name .git -o -name build -o -name 'build-*' -o \
		-name node_modules -o -name debian \) -prune -o \
		-type f \( -name '*.c' -o -name '*.h' \) -print) |
		sed 's|^\./||' | sort
}

test_expect_success 'the check finds a file that is not formatted' '
	mkdir -p fake/src &&
	cp "$ZENC_SOURCE/.clang-format" fake/ &&
	printf "int  f( void ){return 0;}\n" >fake/src/bad.c &&
	printf "int f(void)\n{\n\treturn 0;\n}\n" >fake/src/good.c &&
	test "$(c_files fake)" = "src/bad.c
src/good.c" &&
	test_must_fail clang-format --dry-run -Werror fake/src/bad.c 2>/dev/null &&
	clang-format --dry-run -Werror fake/src/good.c
'

test_expect_success 'every C source of the tree is formatted' '
	c_files "$ZENC_SOURCE" >files &&
	test "$(wc -l <files)" -gt 80 &&
	: >unformatted &&
	while read -r f; do
		clang-format --dry-run -Werror "$ZENC_SOURCE/$f" >/dev/null 2>&1 ||
			echo "$f" >>unformatted
	done <files &&
	if [ -s unformatted ]; then
		echo "not formatted (clang-format -i FILE):" &&
		cat unformatted &&
		false
	fi
'

test_done

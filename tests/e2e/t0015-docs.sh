#!/bin/sh
# shellcheck disable=SC2016,SC2317 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# The documentation stands alone: nothing in the tree refers to a design
# document that is not in it, nor to its hook rules by number (the rules are
# written out in docs/hooks.md), and every link to a section of
# docs/hooks.md names a heading that exists.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# Files left out of the check: none.
SKIP=
export SKIP

# The patterns, written so that this file does not match itself: the name
# of the design document as a word, and rule ids (the letter H and one or
# two digits, as a word).
MENTION='\bD[E]SIGN\b|\bH[0-9]{1,2}\b'
export MENTION

# tree_files DIR: the text and source files under DIR, as paths relative to
# it, without version control, build trees and installed node modules.
tree_files () {
	_tf_build=/nonexistent
	case $ZENC_BUILD in
	"$1"/*) _tf_build=./${ZENC_BUILD#"$1"/} ;;
	esac
	(cd "$1" && find . \( -name .git -o -name node_modules -o \
		-name build -o -name 'build-*' -o -name test-tmp -o \
		-path "$_tf_build" \) -prune -o -type f -print) |
		sed 's|^\./||' | sort
}

# mentions DIR [SKIP-LIST]: prints "path:line: text" for every mention under
# DIR, leaving out the files of SKIP-LIST; returns 1 when there was one.
mentions () {
	tree_files "$1" | while read -r f; do
		case "
${2:-}
" in
		*"
$f
"*) continue ;;
		esac
		grep -nIE "$MENTION" "$1/$f" | sed "s|^|$f:|"
	done >mentions.out
	test ! -s mentions.out
}

test_expect_success 'the check finds a mention of the design document or a rule id' '
	mkdir -p fake/docs fake/src fake/.git fake/build &&
	echo "as D""ESIGN says" >fake/docs/a.md &&
	echo "/* the order of H""11 */" >fake/src/b.c &&
	echo "H""3" >fake/.git/skipped &&
	echo "H""3" >fake/build/skipped &&
	echo "h1, SHA1, H100, xH3 and the H-bridge" >fake/src/clean.c &&
	test_must_fail mentions fake &&
	test_grep "^docs/a.md:1:as D" mentions.out &&
	test_grep "^src/b.c:1:" mentions.out &&
	test "$(wc -l <mentions.out)" = 2 &&
	test_must_fail mentions fake "src/b.c" &&
	test "$(wc -l <mentions.out)" = 1 &&
	mentions fake "src/b.c
docs/a.md"
'

test_expect_success 'no file of the tree mentions the design document or rule ids' '
	test -f "$ZENC_SOURCE/docs/hooks.md" &&
	test "$(tree_files "$ZENC_SOURCE" | wc -l)" -gt 50 &&
	if ! mentions "$ZENC_SOURCE" "$SKIP"; then
		echo "Write the rule out in words, or link to its section of" \
			"docs/hooks.md:" &&
		cat mentions.out &&
		false
	fi
'

test_expect_success 'every link to a section of docs/hooks.md names a heading' '
	tree_files "$ZENC_SOURCE" | grep -E "\.(md|c|h|sh|yaml)$" >files &&
	/usr/bin/python3 - "$ZENC_SOURCE" files <<-\EOF
	import re, sys
	root, listing = sys.argv[1], sys.argv[2]
	def slug(title):
	    s = re.sub(r"[^\w\- ]", "", title.strip().lower())
	    return s.replace(" ", "-")
	with open(root + "/docs/hooks.md", encoding="utf-8") as f:
	    anchors = {slug(l.lstrip("#")) for l in f if l.startswith("#")}
	bad = 0
	links = 0
	for path in open(listing).read().split():
	    try:
	        text = open(root + "/" + path, encoding="utf-8").read()
	    except UnicodeDecodeError:
	        continue
	    found = re.findall(r"hooks\.md#([A-Za-z0-9_-]+)", text)
	    if path == "docs/hooks.md":
	        found += re.findall(r"\]\(#([A-Za-z0-9_-]+)\)", text)
	    for anchor in found:
	        links += 1
	        if anchor not in anchors:
	            print("%s: no section #%s in docs/hooks.md" % (path, anchor))
	            bad = 1
	if links < 20:
	    print("only %d links to sections of docs/hooks.md found" % links)
	    bad = 1
	sys.exit(bad)
	EOF
'

test_expect_success 'docs/hooks.md writes the rules out' '
	h=$ZENC_SOURCE/docs/hooks.md &&
	for title in "The rules in short" "Order and precedence" "Signatures" \
		"Command hooks" "Where a hook runs" \
		"When the step.s process dies" "Failing hooks" \
		"Hook deadlines" "Retries" "Run-level hooks" \
		"The standard hooks"
	do
		test_grep "^##* $title\$" "$h" || return 1
	done
'

test_done

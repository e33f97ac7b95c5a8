#!/bin/sh
# shellcheck disable=SC2016 # the completion scripts are written out with their $ unexpanded
# Writes zenc's man pages and shell completion.  What describes the
# command comes from the command itself (`zenc --help`, `zenc VERB --help`,
# `zenc VERB SUB --help`), run at build time, so it cannot drift from
# them; the other pages come from markdown.
#
#	gen-docs.sh man ZENC OUTDIR VERSION
#		OUTDIR/zenc.1 (every verb of `zenc --help`, each with its own
#		--help) and OUTDIR/zenc-VERB.1 for each verb (with the --help of
#		its sub-verbs); older zenc*.1 files there are removed first
#	gen-docs.sh md FILE.md NAME SECTION VERSION SUMMARY >PAGE
#		a page from markdown (md2man.awk next to this script)
#	gen-docs.sh bash ZENC >FILE
#	gen-docs.sh zsh ZENC >FILE
#		completion: verbs, their sub-verbs and their options
set -eu

here=$(cd "$(dirname "$0")" && pwd)

# verbatim: stdin as a no-fill block, escaped for troff.
verbatim () {
	echo ".RS 4"
	echo ".nf"
	sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
	echo ".fi"
	echo ".RE"
}

# header NAME SECTION VERSION TITLE
header () {
	printf '.TH "%s" "%s" "" "zenc %s" "%s"\n' \
		"$(echo "$1" | tr '[:lower:]' '[:upper:]')" "$2" "$3" "$4"
}

man_escape () {
	printf '%s\n' "$1" | sed -e 's/\\/\\e/g' -e 's/-/\\-/g'
}

# verbs ZENC: "verb<TAB>summary" for each command `zenc --help` lists
# under "commands:".
verbs () {
	"$1" --help | awk '
		/^commands:/ { on = 1; next }
		on && /^[ \t]*$/ { exit }
		on && /^  [a-z]/ {
			v = $1
			s = $0
			sub(/^  [^ ]+ +/, "", s)
			print v "\t" s
		}'
}

# subverbs ZENC VERB: the words after "zenc VERB" in its usage lines
# that are sub-commands (lower case, not an option or a placeholder).
subverbs () {
	"$1" "$2" --help 2>/dev/null | awk -v verb="$2" '
		/^ *(usage|or): zenc / {
			for (i = 1; i <= NF; i++)
				if ($i == "zenc" && $(i + 1) == verb) {
					w = $(i + 2)
					if (w ~ /^[a-z][a-z-]*$/ && !(w in seen)) {
						seen[w] = 1
						print w
					}
					break
				}
		}'
}

cli () {
	zenc=$1 out=$2 version=$3
	mkdir -p "$out"
	rm -f "$out"/zenc.1 "$out"/zenc-*.1
	list=$(verbs "$zenc")
	test -n "$list" || {
		echo "gen-docs.sh: no commands in '$zenc --help'" >&2
		exit 1
	}
	tab=$(printf '\t')

	{
		header zenc 1 "$version" "zenc manual"
		echo ".SH NAME"
		echo "zenc \\- run pipelines of commands and inspect their recorded runs"
		echo ".SH SYNOPSIS"
		echo ".B zenc"
		echo ".I command"
		echo ".RI [ args ]"
		echo ".br"
		echo ".B zenc"
		echo ".I command"
		echo ".B \\-\\-help"
		echo ".SH DESCRIPTION"
		echo "zenc is a pipeline framework in C.  The"
		echo ".B zenc"
		echo "command runs pipelines of shell commands written in YAML (see"
		echo ".BR zenc.yaml (5)),"
		echo "shows the runs recorded by those and by C pipeline programs (see"
		echo ".BR libzenc (3)),"
		echo "and manages stacks, their components, secrets and alerts."
		echo "This is its help:"
		echo ".PP"
		"$zenc" --help | verbatim
		echo ".SH COMMANDS"
		echo "$list" | while IFS=$tab read -r v summary; do
			echo ".SS \"zenc $(man_escape "$v")\""
			man_escape "$summary."
			echo "See"
			echo ".BR zenc\\-$(man_escape "$v") (1)."
			echo ".PP"
			"$zenc" "$v" --help | verbatim
		done
		echo ".SH SEE ALSO"
		echo "$list" | while IFS=$tab read -r v summary; do
			echo ".BR zenc\\-$(man_escape "$v") (1),"
		done
		echo ".BR zenc.yaml (5),"
		echo ".BR libzenc (3)"
	} >"$out/zenc.1"

	echo "$list" | while IFS=$tab read -r v summary; do
		verb_help=$("$zenc" "$v" --help)
		{
			header "zenc-$v" 1 "$version" "zenc manual"
			echo ".SH NAME"
			echo "zenc\\-$(man_escape "$v") \\- $(man_escape "$summary")"
			echo ".SH SYNOPSIS"
			printf '%s\n' "$verb_help" | verbatim
			for s in $(subverbs "$zenc" "$v"); do
				sub_help=$("$zenc" "$v" "$s" --help 2>/dev/null) ||
					continue
				[ "$sub_help" != "$verb_help" ] || continue
				echo ".SH \"ZENC $(man_escape "$(echo "$v $s" |
					tr '[:lower:]' '[:upper:]')")\""
				printf '%s\n' "$sub_help" | verbatim
			done
			echo ".SH SEE ALSO"
			echo ".BR zenc (1)"
		} >"$out/zenc-$v.1"
	done
}

md () {
	src=$1 name=$2 section=$3 version=$4 summary=$5
	header "$name" "$section" "$version" "zenc manual"
	echo ".SH NAME"
	echo "$(man_escape "$name") \\- $(man_escape "$summary")"
	echo ".SH DESCRIPTION"
	awk -f "$here/md2man.awk" "$src"
	echo ".SH SEE ALSO"
	if [ "$name" = zenc ]; then :; else echo ".BR zenc (1)"; fi
}

# options ZENC ARG...: the long options `zenc ARG... --help` names.
options () {
	"$@" --help 2>/dev/null | tr -c 'a-z0-9-' '\n' |
		grep -E '^--[a-z][a-z0-9-]*$' | sort -u | tr '\n' ' '
	echo --help
}

# verb_list ZENC: the verbs, or exit with an error.
verb_list () {
	list=$(verbs "$1")
	test -n "$list" || {
		echo "gen-docs.sh: no commands in '$1 --help'" >&2
		exit 1
	}
	printf '%s\n' "$list" | cut -f 1
}

bash_completion () {
	zenc=$1
	all=$(verb_list "$zenc" | tr '\n' ' ')
	cat <<-EOF
	# bash completion for zenc.  Generated at build time from the output
	# of 'zenc --help' and each 'zenc VERB --help'.

	_zenc()
	{
		local cur=\${COMP_WORDS[COMP_CWORD]} words=
		COMPREPLY=()
		if [ "\$COMP_CWORD" -eq 1 ]; then
			COMPREPLY=(\$(compgen -W "${all}--help --version" -- "\$cur"))
			return 0
		fi
		case \${COMP_WORDS[1]} in
	EOF
	for v in $all; do
		subs=$(subverbs "$zenc" "$v" | tr '\n' ' ')
		printf '\t%s)\n' "$v"
		if [ -n "$subs" ]; then
			printf '\t\tif [ "$COMP_CWORD" -eq 2 ]; then\n'
			printf '\t\t\twords="%s--help"\n' "$subs"
			printf '\t\telse\n\t\t\tcase ${COMP_WORDS[2]} in\n'
			for s in $subs; do
				printf '\t\t\t%s) words="%s" ;;\n' "$s" \
					"$(options "$zenc" "$v" "$s")"
			done
			printf '\t\t\tesac\n\t\tfi\n'
		else
			printf '\t\twords="%s"\n' "$(options "$zenc" "$v")"
		fi
		printf '\t\t;;\n'
	done
	cat <<-EOF
		esac
		# an option from the list; anything else is left to the default
		# (file names)
		if [ "\$COMP_CWORD" -eq 2 ] || [ "\${cur#-}" != "\$cur" ]; then
			COMPREPLY=(\$(compgen -W "\$words" -- "\$cur"))
		fi
		return 0
	}
	complete -o bashdefault -o default -F _zenc zenc
	EOF
}

zsh_completion () {
	zenc=$1
	all=$(verb_list "$zenc" | tr '\n' ' ')
	echo '#compdef zenc'
	echo '# zsh completion for zenc.  Generated at build time from the output'
	echo "# of 'zenc --help' and each 'zenc VERB --help'."
	echo
	echo '_zenc() {'
	echo '	local -a verbs subs opts'
	echo '	verbs=('
	verbs "$zenc" | while IFS=$(printf '\t') read -r v summary; do
		printf "\t\t'%s:%s'\n" "$v" \
			"$(printf '%s' "$summary" | sed "s/'/'\\\\''/g")"
	done
	echo '	)'
	echo '	if (( CURRENT == 2 )); then'
	echo "		_describe -t commands 'zenc command' verbs"
	echo '		return'
	echo '	fi'
	echo '	case ${words[2]} in'
	for v in $all; do
		subs=$(subverbs "$zenc" "$v" | tr '\n' ' ')
		printf '\t%s)\n' "$v"
		if [ -n "$subs" ]; then
			printf '\t\tsubs=(%s)\n' "$subs"
			printf '\t\tif (( CURRENT == 3 )); then\n'
			printf "\t\t\tcompadd -a subs\n\t\t\treturn\n\t\tfi\n"
			printf '\t\tcase ${words[3]} in\n'
			for s in $subs; do
				printf '\t\t%s) opts=(%s) ;;\n' "$s" \
					"$(options "$zenc" "$v" "$s")"
			done
			printf '\t\tesac\n'
		else
			printf '\t\topts=(%s)\n' "$(options "$zenc" "$v")"
		fi
		printf '\t\t;;\n'
	done
	echo '	esac'
	echo '	if [[ $PREFIX == -* ]]; then'
	echo '		compadd -a opts'
	echo '	else'
	echo '		_files'
	echo '	fi'
	echo '}'
	echo
	echo '_zenc "$@"'
}

case ${1:-} in
man) shift; [ $# -eq 3 ] || { echo "usage: gen-docs.sh man ZENC OUTDIR VERSION" >&2; exit 2; }; cli "$@" ;;
md) shift; [ $# -eq 5 ] || { echo "usage: gen-docs.sh md FILE.md NAME SECTION VERSION SUMMARY" >&2; exit 2; }; md "$@" ;;
bash) shift; [ $# -eq 1 ] || { echo "usage: gen-docs.sh bash ZENC" >&2; exit 2; }; bash_completion "$1" ;;
zsh) shift; [ $# -eq 1 ] || { echo "usage: gen-docs.sh zsh ZENC" >&2; exit 2; }; zsh_completion "$1" ;;
*) echo "usage: gen-docs.sh man|md|bash|zsh ..." >&2; exit 2 ;;
esac

# md2man.awk: the markdown of docs/ to a man page body (troff, man macros).
# POSIX awk.  Handles what those files use: headings, paragraphs, fenced
# and indented code, lists, tables, `code`, **bold**, *emphasis* and links.
# The first level-1 heading is dropped (the caller writes NAME from it).
#
#	awk -f md2man.awk FILE.md

function esc(s) {
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	# the non-ASCII characters of the docs, as troff names them
	gsub(/—/, "\\(em", s)
	gsub(/–/, "\\(en", s)
	gsub(/→/, "\\(->", s)
	gsub(/×/, "\\(mu", s)
	gsub(/§/, "\\(sc", s)
	gsub(/≤/, "\\(<=", s)
	gsub(/≥/, "\\(>=", s)
	return s
}

# A line of running text: escapes, then inline markup.
function inline(s,    out, p, q, b, t, u) {
	s = esc(s)
	# [text](target) -> text (the target of a link to a web page follows)
	while ((p = index(s, "](")) > 0) {
		q = index(substr(s, p + 2), ")")
		for (b = p - 1; b > 0 && substr(s, b, 1) != "["; b--)
			;
		if (q == 0 || b == 0)
			break
		t = substr(s, b + 1, p - b - 1)
		u = substr(s, p + 2, q - 1)
		if (u ~ /^https?:/)
			t = t " <" u ">"
		s = substr(s, 1, b - 1) t substr(s, p + 2 + q)
	}
	out = ""
	while (match(s, /`[^`]*`/)) {
		p = RSTART
		q = RLENGTH
		out = out emph(substr(s, 1, p - 1)) "\\fB" \
			substr(s, p + 1, q - 2) "\\fR"
		s = substr(s, p + q)
	}
	out = out emph(s)
	if (out ~ /^[.']/)
		out = "\\&" out
	return out
}

function emph(s) {
	while (match(s, /\*\*[^*]+\*\*/))
		s = substr(s, 1, RSTART - 1) "\\fB" \
			substr(s, RSTART + 2, RLENGTH - 4) "\\fR" \
			substr(s, RSTART + RLENGTH)
	while (match(s, /\*[^* ][^*]*\*/))
		s = substr(s, 1, RSTART - 1) "\\fI" \
			substr(s, RSTART + 1, RLENGTH - 2) "\\fR" \
			substr(s, RSTART + RLENGTH)
	return s
}

function verbatim(s) {
	s = esc(s)
	if (s ~ /^[.']/)
		s = "\\&" s
	return s
}

function cells(s, arr,    n, i) {
	sub(/^[ \t]*\|/, "", s)
	sub(/\|[ \t]*$/, "", s)
	n = split(s, arr, /\|/)
	for (i = 1; i <= n; i++) {
		gsub(/^[ \t]+|[ \t]+$/, "", arr[i])
	}
	return n
}

# A paragraph or list item is gathered whole first, so that `code`,
# **bold** and *emphasis* may span its lines.
function flush() {
	if (buf == "")
		return
	if (kind == "li")
		print ".IP \\(bu 2"
	else if (need_pp)
		print ".PP"
	print inline(buf)
	buf = ""
	kind = ""
	need_pp = 0
}

function endblock() {
	flush()
	if (mode == "code") {
		print ".fi"
		print ".RE"
	}
	mode = ""
}

BEGIN { mode = ""; seen_title = 0; need_pp = 0; buf = ""; kind = "" }

# fenced code
/^```/ {
	if (mode == "fence") {
		print ".fi"
		print ".RE"
		mode = ""
		need_pp = 1
		next
	}
	endblock()
	print ".PP"
	print ".RS 4"
	print ".nf"
	mode = "fence"
	next
}
mode == "fence" { print verbatim($0); next }

# indented code after a blank line (or continuing)
/^    / && (mode == "code" || prev_blank) {
	if (mode != "code") {
		endblock()
		print ".PP"
		print ".RS 4"
		print ".nf"
		mode = "code"
	}
	line = $0
	sub(/^    /, "", line)
	print verbatim(line)
	prev_blank = 0
	next
}

/^[ \t]*$/ {
	# a blank line ends a paragraph, a list item, indented code
	endblock()
	mode = ""
	prev_blank = 1
	need_pp = 1
	next
}

/^# / {
	endblock()
	prev_blank = 0
	if (!seen_title) { seen_title = 1; next }
	t = $0; sub(/^# +/, "", t)
	print ".SH \"" toupper(inline(t)) "\""
	need_pp = 0
	next
}
/^## / {
	endblock()
	prev_blank = 0
	t = $0; sub(/^## +/, "", t)
	print ".SH \"" toupper(inline(t)) "\""
	need_pp = 0
	next
}
/^###+ / {
	endblock()
	prev_blank = 0
	t = $0; sub(/^###+ +/, "", t)
	print ".SS \"" inline(t) "\""
	need_pp = 0
	next
}

# tables: each row a tagged paragraph; the separator row is dropped
/^[ \t]*\|/ {
	if ($0 ~ /^[ \t]*\|[ \t:|-]*$/) next
	endblock()
	n = cells($0, c)
	body = ""
	for (i = 2; i <= n; i++)
		if (c[i] != "")
			body = body (body == "" ? "" : " \\(em ") inline(c[i])
	print ".TP"
	print inline(c[1])
	print (body == "" ? "\\&" : body)
	mode = "table"
	prev_blank = 0
	need_pp = 0
	next
}

# list items (-, *, 1.)
/^[ \t]*([-*]|[0-9]+\.) / {
	endblock()
	t = $0
	sub(/^[ \t]*([-*]|[0-9]+\.) +/, "", t)
	buf = t
	kind = "li"
	mode = "list"
	prev_blank = 0
	next
}

{
	if (mode == "code" || mode == "table") endblock()
	prev_blank = 0
	t = $0
	sub(/^[ \t]+/, "", t)
	buf = (buf == "") ? t : buf " " t
	if (kind == "") kind = "p"
}

END { endblock() }

package js

import (
	"strconv"
	"strings"
)

// URLFast is the host side of 20_url.js's urlParseFast: it parses the
// everyday URL (a special scheme other than file, a plain ASCII domain, maybe
// a port, a path without dot segments or backslashes, maybe a query and a
// fragment, nothing to strip) and answers "" for anything else, which the
// prelude's state machine then parses. In JavaScript the same work took a
// dozen regular expression calls, ~10 µs per URL; every request a worker
// routes on its URL pays it.
//
// The answer is the record's fields joined by NUL: scheme, host, port (""
// for none), the path's segments joined by "/", the query with its "?" and
// the fragment with its "#" ("" for none). Percent-encoding leaves no NUL in
// any field.
func URLFast(in string) string {
	n := len(in)
	if n == 0 || !isASCIIAlpha(in[0]) || in[n-1] <= 0x20 {
		return ""
	}
	i := 1
	for i < n && (isASCIIAlpha(in[i]) || isDigit(in[i]) || in[i] == '+' || in[i] == '-' || in[i] == '.') {
		i++
	}
	if !strings.HasPrefix(in[i:], "://") {
		return ""
	}
	scheme := strings.ToLower(in[:i])
	defaultPort := -1
	switch scheme {
	case "http", "ws":
		defaultPort = 80
	case "https", "wss":
		defaultPort = 443
	case "ftp":
		defaultPort = 21
	default:
		return "" // file, or not special
	}
	// The host: labels of letters, digits and hyphens, dot-separated, maybe a
	// final dot.
	p := i + 3
	hostStart := p
	for {
		labelStart := p
		for p < n && isHostLabelByte(in[p]) {
			p++
		}
		if p == labelStart {
			return ""
		}
		if p < n && in[p] == '.' {
			p++
			if p < n && isHostLabelByte(in[p]) {
				continue
			}
		}
		break
	}
	host := strings.ToLower(in[hostStart:p])
	if endsInNumber(host) && !isCanonicalIPv4(host) {
		return ""
	}
	port := ""
	if p < n && in[p] == ':' {
		p++
		portStart := p
		for p < n && isDigit(in[p]) {
			p++
		}
		if p == portStart || p-portStart > 5 {
			return ""
		}
		v, _ := strconv.Atoi(in[portStart:p])
		if v > 65535 {
			return ""
		}
		if v != defaultPort {
			port = strconv.Itoa(v)
		}
	}
	path := "/"
	if p < n && in[p] == '/' {
		pathStart := p
		for p < n && in[p] != '?' && in[p] != '#' {
			if in[p] == '\\' || in[p] <= 0x20 {
				return ""
			}
			p++
		}
		path = in[pathStart:p]
		if hasDotSegmentStart(path) {
			return ""
		}
	}
	query, fragment := "", ""
	if p < n && in[p] == '?' {
		q := p
		for p < n && in[p] != '#' {
			p++
		}
		query = in[q:p]
	}
	if p < n && in[p] == '#' {
		fragment = in[p:]
		p = n
	}
	if p != n || strings.ContainsAny(query, "\t\n\r") || strings.ContainsAny(fragment, "\t\n\r") {
		return ""
	}
	var b strings.Builder
	b.Grow(len(in) + 8)
	b.WriteString(scheme)
	b.WriteByte(0)
	b.WriteString(host)
	b.WriteByte(0)
	b.WriteString(port)
	b.WriteByte(0)
	percentEncode(&b, path[1:], inPathSet)
	b.WriteByte(0)
	if query != "" {
		b.WriteByte('?')
		percentEncode(&b, query[1:], inSpecialQuerySet)
	}
	b.WriteByte(0)
	if fragment != "" {
		b.WriteByte('#')
		percentEncode(&b, fragment[1:], inFragmentSet)
	}
	return b.String()
}

func isASCIIAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHostLabelByte(c byte) bool { return isASCIIAlpha(c) || isDigit(c) || c == '-' }

// hasDotSegmentStart reports "/." or "/%2e" (any case) in path: a dot
// segment, or a segment starting with a dot, which the full parser judges.
func hasDotSegmentStart(path string) bool {
	for i := 0; i+1 < len(path); i++ {
		if path[i] != '/' {
			continue
		}
		if path[i+1] == '.' || (i+3 < len(path) && path[i+1] == '%' && path[i+2] == '2' && path[i+3]|0x20 == 'e') {
			return true
		}
	}
	return false
}

// endsInNumber is the URL Standard's "ends in a number": the last label
// (past one final dot) is decimal digits or 0x and hex digits.
func endsInNumber(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if strings.HasPrefix(last, "0x") {
		for i := 2; i < len(last); i++ {
			if c := last[i]; !isDigit(c) && (c < 'a' || c > 'f') {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(last); i++ {
		if !isDigit(last[i]) {
			return false
		}
	}
	return true
}

// isCanonicalIPv4 reports four decimal parts of 0-255 without leading
// zeros: an address the parser writes back as it is.
func isCanonicalIPv4(host string) bool {
	parts := strings.Split(host, ".")
	if len(parts) != 4 {
		return false
	}
	for _, s := range parts {
		if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
			return false
		}
		v, err := strconv.Atoi(s)
		if err != nil || v > 255 {
			return false
		}
	}
	return true
}

// The percent-encode sets of the URL Standard's path, special-query and
// fragment states, as the prelude has them (a path also encodes "^", as
// workerd does). Bytes from 0x7f up are always encoded.
func inPathSet(c byte) bool {
	return c <= 0x20 || c == '"' || c == '#' || c == '<' || c == '>' || c == '?' || c == '^' || c == '`' || c == '{' || c == '}'
}

func inSpecialQuerySet(c byte) bool {
	return c <= 0x20 || c == '"' || c == '#' || c == '<' || c == '>' || c == '\''
}

func inFragmentSet(c byte) bool {
	return c <= 0x20 || c == '"' || c == '<' || c == '>' || c == '`'
}

func percentEncode(b *strings.Builder, s string, in func(byte) bool) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x7f && !in(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}

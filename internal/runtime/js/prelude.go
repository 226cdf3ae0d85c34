// Package js holds the JavaScript half of Isola's web platform: the files
// that become every isolate's prelude. They are plain scripts concatenated in
// name order into one function body, so their top-level names are private to
// the prelude and shared between its files.
package js

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.js
var files embed.FS

// FileName is the name the prelude carries in stack traces.
const FileName = "isola:prelude"

// Source returns the whole prelude as one script. Each file's first line is
// marked with a comment so a stack line number can be traced back to a file.
func Source() string {
	names, err := fs.Glob(files, "*.js")
	if err != nil {
		panic(err)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("(function () {\n\"use strict\";\n")
	for _, name := range names {
		src, err := files.ReadFile(name)
		if err != nil {
			panic(err)
		}
		b.WriteString("// ---- " + name + " ----\n")
		b.Write(src)
		if len(src) > 0 && src[len(src)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	b.WriteString("})();\n")
	return b.String()
}

package runtime

import (
	"errors"
	"strings"

	"github.com/isola-run/isola/internal/bundle"
	"modernc.org/quickjs"
)

// ScriptError is an exception from JavaScript, with its stack mapped back to
// the worker's modules.
type ScriptError struct {
	Name    string
	Message string
	Stack   string
	// File, Line and Column locate a syntax error.
	File         string
	Line, Column int
}

func (e *ScriptError) Error() string {
	s := e.Name + ": " + e.Message
	if e.File != "" {
		s = e.File + ":" + itoa(e.Line) + ":" + itoa(e.Column) + ": " + s
	}
	if e.Stack != "" {
		s += "\n" + strings.TrimRight(e.Stack, "\n")
	}
	return s
}

// namedError is an error JavaScript sees as one of class name (errorName
// reads JSName), with message msg.
type namedError struct{ name, msg string }

func (e namedError) Error() string  { return e.msg }
func (e namedError) JSName() string { return e.name }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// mapError turns an engine error into a ScriptError whose positions name
// the worker's modules.
func mapError(err error, m *bundle.SourceMap) error {
	var qe *quickjs.Error
	if !errors.As(err, &qe) {
		return err
	}
	se := &ScriptError{Name: qe.Name, Message: qe.Message, Stack: m.MapStack(qe.Stack)}
	if qe.FileName == bundle.FileName && qe.LineNumber > 0 {
		if src, l, c, ok := m.Lookup(qe.LineNumber, qe.ColumnNumber); ok {
			se.File, se.Line, se.Column = src, l, c
		}
	} else if qe.FileName != "" {
		se.File, se.Line, se.Column = qe.FileName, qe.LineNumber, qe.ColumnNumber
	}
	return se
}

// errorText is an error's message with its stack, for logs and dev pages.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

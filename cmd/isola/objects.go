package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/isola-run/isola/internal/inspect"
)

const objectsUsage = `Usage:
  isola objects [dir] [--state DIR]
      list the stored Durable Objects of the worker in dir (default .), with their facets
  isola objects show [dir] <Class> <id-or-name> [--facet a/b] [--all] [--limit N]
      an object's (or facet's) size, alarm, SQL tables and KV pairs with decoded values
  isola objects sql [dir] <Class> <id-or-name> [--facet a/b] [--json] "<query>"
      run one read-only SQL query on an object (or facet) and print its rows

<id-or-name> is an id (64 hex digits) or the name given to idFromName/getByName.
Facet paths name nested facets parent/child (a "/" inside a name is written %2F).
--state DIR reads another state directory (default: dir/.isola/state).
A running isola dev keeps an object locked until it has been idle for about 10 s.
`

func objects(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "show":
			return objectsShow(args[1:], stdout, stderr)
		case "sql":
			return objectsSQL(args[1:], stdout, stderr)
		case "help", "--help", "-h":
			fmt.Fprint(stdout, objectsUsage)
			return nil
		}
	}
	fs, state := objectsFlags("objects", stderr)
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the usage is printed
	}
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return fmt.Errorf("objects takes at most one directory, got %d arguments: %q (to look at one object: isola objects show [dir] <Class> <id-or-name>)", len(pos), pos)
	}
	dir := "."
	if len(pos) == 1 {
		dir = pos[0]
	}
	p, err := inspect.Open(dir, *state)
	if err != nil {
		return err
	}
	return p.WriteList(stdout)
}

func objectsFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, objectsUsage) }
	state := fs.String("state", "", "state directory (default: <dir>/.isola/state)")
	return fs, state
}

// objectArgs are the arguments common to show and sql.
type objectArgs struct {
	dir, class, idOrName string
	rest                 []string // what follows the object (sql's query)
}

// splitObjectArgs reads "[dir] <Class> <id-or-name>" followed by extra
// positional arguments.
func splitObjectArgs(cmd string, pos []string, extra int, what string) (objectArgs, error) {
	switch len(pos) - extra {
	case 2:
		return objectArgs{dir: ".", class: pos[0], idOrName: pos[1], rest: pos[2:]}, nil
	case 3:
		return objectArgs{dir: pos[0], class: pos[1], idOrName: pos[2], rest: pos[3:]}, nil
	}
	return objectArgs{}, fmt.Errorf("objects %s takes [dir] <Class> <id-or-name>%s, got %d arguments: %q", cmd, what, len(pos), pos)
}

func objectsShow(args []string, stdout, stderr io.Writer) error {
	fs, state := objectsFlags("objects show", stderr)
	facet := fs.String("facet", "", "show a facet of the object: a/b for facet b of facet a")
	all := fs.Bool("all", false, "show every KV pair, each value in full")
	limit := fs.Int("limit", 50, "show at most this many KV pairs")
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the usage is printed
	}
	if err != nil {
		return err
	}
	a, err := splitObjectArgs("show", pos, 0, "")
	if err != nil {
		return err
	}
	if *limit < 1 {
		return fmt.Errorf("--limit %d: expected a positive number of KV pairs", *limit)
	}
	p, err := inspect.Open(a.dir, *state)
	if err != nil {
		return err
	}
	t, err := p.Find(a.class, a.idOrName, *facet)
	if err != nil {
		return err
	}
	return p.Show(stdout, t, inspect.ShowOptions{All: *all, MaxKeys: *limit})
}

func objectsSQL(args []string, stdout, stderr io.Writer) error {
	fs, state := objectsFlags("objects sql", stderr)
	facet := fs.String("facet", "", "query a facet of the object: a/b for facet b of facet a")
	asJSON := fs.Bool("json", false, "print the rows as a JSON array of objects")
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the usage is printed
	}
	if err != nil {
		return err
	}
	a, err := splitObjectArgs("sql", pos, 1, ` "<query>"`)
	if err != nil {
		return err
	}
	p, err := inspect.Open(a.dir, *state)
	if err != nil {
		return err
	}
	t, err := p.Find(a.class, a.idOrName, *facet)
	if err != nil {
		return err
	}
	return p.Query(stdout, t, a.rest[0], inspect.QueryOptions{JSON: *asJSON})
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, which it returns. Everything after "--" is
// positional (a query may start with "-").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		args = rest
		if len(args) > 0 {
			pos = append(pos, args[0])
			args = args[1:]
		}
	}
	return pos, nil
}

package inspect

import (
	"bytes"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteList prints every class's stored objects: id, size (of the object's
// own database, WAL included), the name the id was made from when known,
// and the object's facets below it.
func (p *Project) WriteList(w io.Writer) error {
	namespaces, err := p.List()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Durable Objects of worker %q in %s\n", p.WorkerName, p.display(p.ObjectsDir()))
	if len(namespaces) == 0 {
		fmt.Fprintf(w, "\n%s defines no Durable Object classes, and nothing is stored.\n", p.Config.File)
		return nil
	}
	for _, ns := range namespaces {
		fmt.Fprintln(w)
		note := ""
		if !ns.InConfig {
			note = fmt.Sprintf(" (a class %s does not define)", p.Config.File)
		}
		switch len(ns.Objects) {
		case 0:
			fmt.Fprintf(w, "%s%s: no objects\n", ns.Class, note)
			continue
		case 1:
			fmt.Fprintf(w, "%s%s: 1 object\n", ns.Class, note)
		default:
			fmt.Fprintf(w, "%s%s: %d objects\n", ns.Class, note, len(ns.Objects))
		}
		tw := newTable(w)
		for _, o := range ns.Objects {
			size := formatSize(o.Size)
			if !hasOwnDatabase(o) {
				size = "-"
			}
			about := ""
			if o.Name != "" {
				about = "name " + quote(o.Name)
			}
			if o.Foreign {
				if about != "" {
					about += "; "
				}
				about += fmt.Sprintf("id not made by %s of worker %q (renamed?)", ns.Class, p.WorkerName)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", o.ID, size, about)
			for _, f := range o.Facets {
				fmt.Fprintf(tw, "    facet %s\t%s\n", FacetPath(f.Path), formatSize(f.Size))
			}
		}
		tw.Flush()
	}
	return nil
}

// hasOwnDatabase tells an object with a database from one that only has
// facets (Objects lists both; only the first has a size).
func hasOwnDatabase(o Object) bool { return o.Size > 0 || len(o.Facets) == 0 }

// table aligns tab-separated cells in columns, like tabwriter, without the
// trailing blanks tabwriter leaves after an empty last cell.
type table struct {
	out io.Writer
	buf bytes.Buffer
	tw  *tabwriter.Writer
}

func newTable(w io.Writer) *table {
	t := &table{out: w}
	t.tw = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', 0)
	return t
}

func (t *table) Write(p []byte) (int, error) { return t.tw.Write(p) }

// Flush writes the table out.
func (t *table) Flush() error {
	if err := t.tw.Flush(); err != nil {
		return err
	}
	for _, line := range bytes.SplitAfter(t.buf.Bytes(), []byte("\n")) {
		trimmed := bytes.TrimRight(line, " \n")
		if len(trimmed) < len(line) && bytes.HasSuffix(line, []byte("\n")) {
			trimmed = append(trimmed, '\n')
		}
		if _, err := t.out.Write(trimmed); err != nil {
			return err
		}
	}
	t.buf.Reset()
	return nil
}

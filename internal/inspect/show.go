package inspect

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/isola-run/isola/internal/storage"
)

// ShowOptions control Show.
type ShowOptions struct {
	// All shows every KV pair with its whole value, over several lines
	// when it is wide. Otherwise at most MaxKeys pairs are shown, each
	// value cut to one line of MaxValueLen characters.
	All         bool
	MaxKeys     int // 0 means 50
	MaxValueLen int // 0 means 120
	Now         time.Time
}

// kvPage is how many pairs are read at a time: values can be megabytes.
const kvPage = 100

// Show prints what the target stored: database size, alarm, SQL tables with
// their columns and row counts, facets, and KV pairs with decoded values.
func (p *Project) Show(w io.Writer, t *Target, opts ShowOptions) error {
	if opts.MaxKeys == 0 {
		opts.MaxKeys = 50
	}
	if opts.MaxValueLen == 0 {
		opts.MaxValueLen = 120
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	// Opened before anything is printed: an object in use fails cleanly.
	var s *storage.Store
	if t.HasDatabase {
		var err error
		if s, err = p.open(t); err != nil {
			return err
		}
		defer s.Close()
	}
	fmt.Fprintf(w, "%s %s\n", t.Class, t.ID)
	if t.Name != "" {
		fmt.Fprintf(w, "  name:     %s\n", quote(t.Name))
	}
	if t.Facet != nil {
		fmt.Fprintf(w, "  facet:    %s\n", FacetPath(t.Facet))
	}
	if t.Foreign {
		fmt.Fprintf(w, "  note:     this id was not made by %s of worker %q (was the worker or class renamed?)\n", t.Class, p.WorkerName)
	}
	if !t.HasDatabase {
		fmt.Fprintf(w, "  storage:  none of its own\n")
		writeFacets(w, t)
		return nil
	}
	d, err := s.Describe()
	if err != nil {
		return fmt.Errorf("reading %s: %w", t, err)
	}
	fmt.Fprintf(w, "  database: %s\n", formatSize(d.Size))
	if d.HasAlarm {
		fmt.Fprintf(w, "  alarm:    %s\n", FormatAlarm(d.Alarm, opts.Now))
	} else if t.Facet == nil {
		fmt.Fprintf(w, "  alarm:    none\n")
	}
	writeFacets(w, t)

	if len(d.Tables) == 0 {
		fmt.Fprintf(w, "\nSQL tables: none\n")
	} else {
		fmt.Fprintf(w, "\nSQL tables:\n")
		tw := newTable(w)
		for _, table := range d.Tables {
			cols, err := columns(s, table.Name)
			if err != nil {
				return fmt.Errorf("reading the columns of table %s of %s: %w", table.Name, t, err)
			}
			rows := "rows unknown"
			if table.Rows >= 0 {
				rows = fmt.Sprintf("%d row%s", table.Rows, plural(int(table.Rows)))
			}
			fmt.Fprintf(tw, "  %s\t%s\t(%s)\n", table.Name, rows, cols)
		}
		tw.Flush()
	}

	if d.KVKeys == 0 {
		fmt.Fprintf(w, "\nKV pairs: none\n")
		return nil
	}
	fmt.Fprintf(w, "\nKV pairs: %d\n", d.KVKeys)
	render := RenderOptions{MaxLen: opts.MaxValueLen}
	if opts.All {
		render = RenderOptions{Multiline: true, MaxItems: -1}
	}
	shown := int64(0)
	var after *string
	for {
		limit := kvPage
		if !opts.All {
			limit = min(limit, opts.MaxKeys-int(shown))
		}
		if limit <= 0 {
			break
		}
		page, err := s.List(storage.ListOptions{StartAfter: after, Limit: limit})
		if err != nil {
			return fmt.Errorf("reading the KV pairs of %s: %w", t, err)
		}
		for _, kv := range page {
			writePair(w, kv, render)
		}
		shown += int64(len(page))
		if len(page) < limit {
			break
		}
		after = &page[len(page)-1].Key
	}
	if shown < d.KVKeys {
		fmt.Fprintf(w, "  ... %d more (--all shows every pair in full)\n", d.KVKeys-shown)
	}
	return nil
}

// writePair prints a key and its value: on one line when the value fits,
// else the value indented below the key.
func writePair(w io.Writer, kv storage.KV, opts RenderOptions) {
	key := quote(kv.Key)
	val := RenderStored(kv.Value, opts)
	if !strings.Contains(val, "\n") {
		fmt.Fprintf(w, "  %s: %s\n", key, val)
		return
	}
	fmt.Fprintf(w, "  %s:\n    %s\n", key, strings.ReplaceAll(val, "\n", "\n    "))
}

func writeFacets(w io.Writer, t *Target) {
	if len(t.Facets) == 0 {
		return
	}
	fmt.Fprintf(w, "  facets:\n")
	tw := newTable(w)
	for _, f := range t.Facets {
		fmt.Fprintf(tw, "    %s\t%s\n", FacetPath(f.Path[len(t.Facet):]), formatSize(f.Size))
	}
	tw.Flush()
}

// columns describes a table's columns as "name TYPE, ...", with its
// primary key.
func columns(s *storage.Store, table string) (string, error) {
	c, err := s.Exec(`SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return "", err
	}
	defer c.Close()
	var cols []string
	pk := map[int64]string{} // position in the key -> column
	pkCol := -1
	for {
		row, ok, err := c.Next()
		if err != nil {
			return "", err
		}
		if !ok {
			break
		}
		name, _ := row[0].(string)
		col := name
		if typ, _ := row[1].(string); typ != "" {
			col += " " + typ
		}
		cols = append(cols, col)
		if n, _ := row[2].(int64); n > 0 {
			pk[n] = name
			pkCol = len(cols) - 1
		}
	}
	switch {
	case len(pk) == 1:
		cols[pkCol] += " PRIMARY KEY"
	case len(pk) > 1:
		var key []string
		for i := int64(1); i <= int64(len(pk)); i++ {
			key = append(key, pk[i])
		}
		cols = append(cols, "PRIMARY KEY ("+strings.Join(key, ", ")+")")
	}
	return strings.Join(cols, ", "), nil
}

// formatSize prints a byte count in binary units.
func formatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, u := float64(n)/unit, 0
	for f >= unit && u < 3 {
		f /= unit
		u++
	}
	return fmt.Sprintf("%.1f %s", f, []string{"KiB", "MiB", "GiB", "TiB"}[u])
}

package compat

import "testing"

func TestResolve(t *testing.T) {
	cases := []struct {
		date  string
		flags []string
		want  Features
		err   string
	}{
		{"2026-11-01", nil, Features{Process: true, RequestCache: true, CtxExports: true, DeleteAllDeletesAlarm: true}, ""},
		{"2026-02-23", nil, Features{RequestCache: true, CtxExports: true}, ""},
		{"2026-02-24", []string{"delete_all_preserves_alarm"}, Features{RequestCache: true, CtxExports: true}, ""},
		{"2026-02-23", []string{"delete_all_deletes_alarm"}, Features{RequestCache: true, CtxExports: true, DeleteAllDeletesAlarm: true}, ""},
		{"2023-01-01", nil, Features{}, ""},
		{"2023-01-01", []string{"cache_option_enabled"}, Features{RequestCache: true}, ""},
		{"2023-01-01", []string{"nodejs_compat"}, Features{}, ""},
		{"2023-01-01", []string{"nodejs_compat_v2"}, Features{Process: true}, ""},
		{"2024-10-01", []string{"nodejs_compat"}, Features{Process: true}, ""},
		{"2023-01-01", []string{"enable_ctx_exports"}, Features{CtxExports: true}, ""},
		{"2026-11-01", []string{"no_such_flag_at_all"}, Features{}, "No such compatibility flag: no_such_flag_at_all"},
		{"2026-1-1", nil, Features{}, "Invalid compatibility date: 2026-1-1"},
		{"yesterday", nil, Features{}, "Invalid compatibility date: yesterday"},
		{"2999-01-01", nil, Features{}, `This Worker requires compatibility date "2999-01-01", but the newest date supported by this server binary is "2026-11-24".`},
	}
	for _, c := range cases {
		got, err := Resolve(c.date, c.flags)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%s %v: got error %v, want %q", c.date, c.flags, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s %v: got %+v, %v; want %+v", c.date, c.flags, got, err, c.want)
		}
	}
}

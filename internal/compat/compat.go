// Package compat reads compatibility dates and flags, the way workerd does:
// a worker names a date, and flags switch single behaviours on or off. Isola
// knows every flag name the reference knows (so a typo is an error and a
// real flag is not), and acts on the few listed in Features.
package compat

import (
	_ "embed"
	"fmt"
	"strings"
	"time"
)

// NewestDate is the newest compatibility date this build supports: that of
// the workerd release whose behaviour Isola tracks.
const NewestDate = "2026-11-24"

//go:embed flags.txt
var flagsTxt string

var known = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(flagsTxt, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m
}()

// Features are the behaviours that depend on the date and flags.
type Features struct {
	Process      bool `json:"process"`      // a `process` global (Node.js compatibility)
	RequestCache bool `json:"requestCache"` // the `cache` option of Request
	CtxExports   bool `json:"ctxExports"`   // ctx.exports loopbacks
	// ctx.storage.deleteAll() also removes the object's alarm.
	DeleteAllDeletesAlarm bool `json:"deleteAllDeletesAlarm"`
}

// Bits packs the features into one number for the prelude (an isolate's
// start then parses no JSON for them): bit 0 Process, 1 RequestCache, 2
// CtxExports, 3 DeleteAllDeletesAlarm.
func (f Features) Bits() int {
	b := 0
	for i, on := range []bool{f.Process, f.RequestCache, f.CtxExports, f.DeleteAllDeletesAlarm} {
		if on {
			b |= 1 << i
		}
	}
	return b
}

// Resolve checks date and flags and says which features they turn on. Its
// errors use workerd's words.
func Resolve(date string, flags []string) (Features, error) {
	if _, err := time.Parse("2006-01-02", date); err != nil || len(date) != 10 {
		return Features{}, fmt.Errorf("Invalid compatibility date: %s", date)
	}
	if date > NewestDate {
		return Features{}, fmt.Errorf("This Worker requires compatibility date %q, but the newest date supported by this server binary is %q.", date, NewestDate)
	}
	on := map[string]bool{}
	for _, f := range flags {
		if !known[f] {
			return Features{}, fmt.Errorf("No such compatibility flag: %s", f)
		}
		on[f] = true
	}
	enabled := func(flag, disable, since string) bool {
		if on[flag] {
			return true
		}
		if disable != "" && on[disable] {
			return false
		}
		return since != "" && date >= since
	}
	nodeCompat := enabled("nodejs_compat", "no_nodejs_compat", "2026-08-04")
	return Features{
		// nodejs_compat_v2 is implied by nodejs_compat after 2024-09-23.
		Process:               enabled("nodejs_compat_v2", "no_nodejs_compat_v2", "") || (nodeCompat && date >= "2024-09-23"),
		RequestCache:          enabled("cache_option_enabled", "cache_option_disabled", "2024-11-11"),
		CtxExports:            enabled("enable_ctx_exports", "disable_ctx_exports", "2025-11-17"),
		DeleteAllDeletesAlarm: enabled("delete_all_deletes_alarm", "delete_all_preserves_alarm", "2026-02-24"),
	}, nil
}

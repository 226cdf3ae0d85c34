package config

import (
	"sort"
	"strings"
)

// ignoredTopLevel lists the top-level fields wrangler accepts that Isola does
// not act on. A config written for wrangler must still load, so these are
// reported back (Config.Ignored) rather than rejected; anything outside this
// list and the fields Isola reads is most likely a typo.
//
// Sources: wrangler's Config, Environment and deprecated-field handling
// (workers-sdk, packages/workers-utils/src/config).
var ignoredTopLevel = []string{
	"$schema",
	// Deployment and account settings.
	"account_id", "zone_id", "workers_dev", "preview_urls", "route", "routes",
	"compliance_region", "first_party_worker", "placement", "triggers",
	"observability", "logpush", "logfwdr", "upload_source_maps", "cache",
	"previews", "keep_vars", "send_metrics", "usage_model", "legacy_env", "env",
	"pages_build_output_dir",
	// Build and bundling: Isola runs the modules as they are on disk.
	"build", "no_bundle", "minify", "keep_names", "define", "alias", "tsconfig",
	"jsx_factory", "jsx_fragment", "find_additional_modules",
	"preserve_file_names", "base_dir", "python_modules", "node_compat",
	// Static assets and legacy module bindings.
	"assets", "site", "legacy_assets", "experimental_assets", "wasm_modules",
	"text_blobs", "data_blobs",
	// Bindings to Cloudflare products Isola does not provide.
	"kv_namespaces", "r2_buckets", "d1_databases", "queues", "vectorize",
	"hyperdrive", "analytics_engine_datasets", "browser", "ai", "ai_search",
	"ai_search_namespaces", "images", "media", "stream", "version_metadata",
	"send_email", "mtls_certificates", "tail_consumers",
	"streaming_tail_consumers", "dispatch_namespaces", "pipelines",
	"secrets", "secrets_store_secrets", "artifacts", "flagship", "ratelimits",
	"vpc_services", "vpc_networks", "unsafe", "unsafe_hello_world",
	"cloudchamber", "containers",
	// Deprecated, still tolerated by wrangler with a warning.
	"type", "webpack_config", "experimental_services", "kv-namespaces",
	"miniflare",
}

// closest returns the candidate nearest to name, or "" when none is close
// enough to be a plausible typo. Case and -/_ are ignored because
// "Compatibility-Date" is a typo of compatibility_date, not a new field.
func closest(name string, candidates []string) string {
	fold := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }
	target := fold(name)
	// Allow roughly one edit per three characters, so that short names like
	// "vars" only match on a single slip while long ones tolerate more.
	limit := min(max(len(target)/3, 1), 3)
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	// Ties on the folded distance go to the closer raw spelling, so
	// "kv_namespace" suggests kv_namespaces rather than the deprecated
	// kv-namespaces.
	best, bestDist, bestRaw := "", limit+1, 0
	for _, c := range sorted {
		d := editDistance(target, fold(c))
		raw := editDistance(name, c)
		if d < bestDist || (d == bestDist && raw < bestRaw) {
			best, bestDist, bestRaw = c, d, raw
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance: Levenshtein plus
// swaps of adjacent characters, the most common typing slip ("mian").
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

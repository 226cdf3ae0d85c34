// Package isola runs code nobody reviewed — Cloudflare Workers written by
// AI agents or by a platform's customers — in lightweight QuickJS isolates,
// on your own machines. See ARCHITECTURE.md for how the packages fit.
package isola

// Version is the release of this build.
const Version = "0.1.0-dev"

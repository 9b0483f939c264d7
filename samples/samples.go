// Package samples bundles the files `globex demo` runs on: webshop orders
// (JSON, CSV, XLSX, one of them bad) and Globe exports (items, item prices,
// accounts, stock).
package samples

import "embed"

// FS holds the sample folders.
//
//go:embed orders exports
var FS embed.FS

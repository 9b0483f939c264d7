// Package samples bundles the files `globex demo` runs on: webshop orders
// (JSON, CSV, XLSX, one of them bad) and Globe exports.
package samples

import "embed"

// FS holds the sample folders.
//
//go:embed orders
var FS embed.FS

//go:build !race

package stock

const raceDetector = false

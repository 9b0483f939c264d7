//go:build race

package stock

// raceDetector makes the heavier tests smaller under -race, which slows
// them tenfold; they still run.
const raceDetector = true

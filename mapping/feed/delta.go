package feed

// DeltaStats counts what a delta holds (see DeltaFromIndexes).
type DeltaStats struct {
	Upserts   int // new or changed records
	Deletes   int // records of the previous snapshot that are gone
	Unchanged int // records identical to the previous snapshot
}

func appendKeyObject(b []byte, fields []KeyField) []byte {
	b = append(b, '{')
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, f.Name)
		b = append(b, ':')
		b = appendJSONString(b, f.Value)
	}
	return append(b, '}')
}

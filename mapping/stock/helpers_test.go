package stock

import (
	"bufio"
	"bytes"

	"globex/internal/decimal"
)

func feedDec(s string) decimal.Dec { return decimal.MustParse(s) }

func newBufReader(b []byte) *bufio.Reader { return bufio.NewReaderSize(bytes.NewReader(b), 16) }

// Command stdxml is the baseline of the items benchmark: it reads a Globe
// Items export with a plain encoding/xml decoder (Token, strict mode) and
// counts the Item elements, doing no mapping and writing nothing.
//
// Usage: stdxml items.xml
package main

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: stdxml items.xml")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "stdxml:", err)
		os.Exit(1)
	}
	defer f.Close()
	d := xml.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	items, depth := 0, 0
	for {
		t, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "stdxml:", err)
			os.Exit(1)
		}
		switch t := t.(type) {
		case xml.StartElement:
			depth++
			if depth == 3 && t.Name.Local == "Item" {
				items++
			}
		case xml.EndElement:
			depth--
		}
	}
	fmt.Printf("stdxml: %d items\n", items)
}

package order

import "fmt"

// finish builds every raw order, refuses every order whose number occurs more
// than once in the file (naming the other places), and assembles the Result.
func finish(raws []rawOrder) Result {
	type built struct {
		o     Order
		probs []Problem
	}
	all := make([]built, len(raws))
	where := make(map[string][]int, len(raws))
	for i := range raws {
		o, probs := raws[i].build()
		all[i] = built{o, probs}
		if n := raws[i].h[hNumber]; n != "" {
			where[n] = append(where[n], i)
		}
	}
	for n, idx := range where {
		if len(idx) < 2 {
			continue
		}
		for _, i := range idx {
			others := ""
			for _, j := range idx {
				if j != i {
					if others != "" {
						others += " and "
					}
					others += raws[j].pos
				}
			}
			field := raws[i].headerName(hNumber)
			all[i].probs = append(all[i].probs, Problem{Order: n, Field: field, Pos: raws[i].pos,
				Message: fmt.Sprintf("the same order number is also used at %s; order numbers must be unique within a file, so none of them is sent", others)})
		}
	}
	var res Result
	for _, b := range all {
		if len(b.probs) > 0 {
			res.Problems = append(res.Problems, b.probs...)
			continue
		}
		res.Orders = append(res.Orders, b.o)
	}
	return res
}

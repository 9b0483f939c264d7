package order_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"globex/mapping/order"
	"globex/mapping/order/ordertest"
)

var writeSamples = flag.Bool("write-samples", false, "regenerate samples/orders/orders-excel.xlsx from sampleXLSXRows")

const samples = "../../samples/orders"

// sampleXLSXRows is the content of samples/orders/orders-excel.xlsx: an order
// as a sales assistant keys it into Excel.
const sampleXLSXRows = `order_number;debtor_code;contact;your_reference;delivery_date;delivery_method;note;item_code;quantity;unit;price;line_note
WEB-200120;10006;Ruud Hendriks;Spoed Hendriks;2026-12-02;DPD;Telefonisch besteld, per mail bevestigd;RADIATOR-T22-600;3;stk;142.50;
WEB-200120;;;;;;;RAD-BEUGEL-SET;3;set;12.75;
WEB-200120;;;;;;;THERMOSTAATKR-HOEK;3;stk;24.30;Wit, geen chroom
`

func TestSamples(t *testing.T) {
	xlsxPath := filepath.Join(samples, "orders-excel.xlsx")
	if *writeSamples {
		data, err := ordertest.XLSXFromCSV(sampleXLSXRows)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(xlsxPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob(filepath.Join(samples, "*"))
	if err != nil || len(files) < 6 {
		t.Fatalf("samples: %v %v", files, err)
	}
	numbers := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		res, err := order.Parse(name, bytes.NewReader(data), order.Options{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if strings.HasPrefix(name, "BAD-") {
			if len(res.Orders) != 0 || len(res.Problems) != 2 ||
				!strings.Contains(res.Problems[0].Message, "decimal comma") || res.Problems[1].Field != "customer.debtor_code" {
				t.Errorf("%s: orders %v, problems %v", name, res.Orders, res.Problems)
			}
			continue
		}
		if len(res.Problems) != 0 || len(res.Orders) == 0 {
			t.Errorf("%s: %d orders, problems %v", name, len(res.Orders), res.Problems)
		}
		for _, o := range res.Orders {
			if prev, dup := numbers[o.Number]; dup {
				t.Errorf("order %s is in both %s and %s; the demo would refuse one", o.Number, prev, name)
			}
			numbers[o.Number] = name
		}
	}
	// The workbook holds what sampleXLSXRows says.
	data, err := os.ReadFile(xlsxPath)
	if err != nil {
		t.Fatalf("%v (run go test ./mapping/order -run TestSamples -write-samples)", err)
	}
	fromXLSX := mustParse(t, "orders-excel.xlsx", data)
	fromCSV := mustParse(t, "rows.csv", []byte(sampleXLSXRows))
	if len(fromXLSX.Orders) != 1 || fromXLSX.Orders[0].Hash() != fromCSV.Orders[0].Hash() {
		t.Errorf("orders-excel.xlsx does not match sampleXLSXRows: %+v", fromXLSX)
	}
}

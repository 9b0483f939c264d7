// Package globetest generates realistic Globe eExact exports for benchmarks
// and tests, on the fly, so that no large fixture is ever committed.
package globetest

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand"
)

var (
	nouns  = []string{"Bolt", "Nut", "Washer", "Hinge", "Bracket", "Screw", "Anchor", "Rivet", "Clamp", "Spring"}
	nl     = []string{"Bout", "Moer", "Sluitring", "Scharnier", "Beugel", "Schroef", "Anker", "Klinknagel", "Klem", "Veer"}
	de     = []string{"Schraube", "Mutter", "Unterlegscheibe", "Scharnier", "Halter", "Schraube", "Dübel", "Niete", "Klemme", "Feder"}
	fr     = []string{"Boulon", "Écrou", "Rondelle", "Charnière", "Équerre", "Vis", "Cheville", "Rivet", "Collier", "Ressort"}
	finish = []string{"galvanised", "stainless A2", "stainless A4", "zinc-plated", "black oxide", "brass"}
	units  = []string{"pcs", "box", "kg", "m"}
	brands = []string{"ACME", "Würth & Zn", "Fabory", "Hoenderdaal", "Bossard"}
)

// GenerateItems writes an Items export with n items in UTF-8, about 1 KB per
// item: padded codes, 3-4 MultiDescriptions, free fields, an assortment,
// warehouses, a GTIN on most items and a small base64 image on about one in
// fifty. The same seed always gives the same bytes.
func GenerateItems(w io.Writer, n int, seed int64) error {
	rng := rand.New(rand.NewSource(seed))
	bw := bufio.NewWriterSize(w, 64<<10)
	img := make([]byte, 3000)
	rng.Read(img)
	imgB64 := base64.StdEncoding.EncodeToString(img)
	fmt.Fprint(bw, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<eExact xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:noNamespaceSchemaLocation=\"eExact-Schema.xsd\">\n  <Items>\n")
	for i := 0; i < n; i++ {
		k := rng.Intn(len(nouns))
		f := finish[rng.Intn(len(finish))]
		size := fmt.Sprintf("M%dx%d", 3+rng.Intn(20), 10+5*rng.Intn(40))
		code := fmt.Sprintf("%12s", fmt.Sprintf("ART-%07d", i+1))
		fmt.Fprintf(bw, "    <Item code=\"%s\" type=\"S\" searchcode=\"%s\">\n", code, fmt.Sprintf("%.4s%d", nouns[k], i%10000))
		fmt.Fprintf(bw, "      <Description>%s %s %s</Description>\n", nouns[k], size, f)
		fmt.Fprintf(bw, "      <LongDescription>%s %s, %s &amp; tested to DIN 933; packed per %d</LongDescription>\n", nouns[k], size, f, 10*(1+rng.Intn(10)))
		fmt.Fprint(bw, "      <MultiDescriptions>\n")
		fmt.Fprintf(bw, "        <MultiDescription number=\"1\">%s %s %s</MultiDescription>\n", nl[k], size, f)
		fmt.Fprintf(bw, "        <MultiDescription number=\"2\">%s %s %s</MultiDescription>\n", de[k], size, f)
		fmt.Fprintf(bw, "        <MultiDescription number=\"3\">%s %s %s</MultiDescription>\n", fr[k], size, f)
		if rng.Intn(2) == 0 {
			fmt.Fprintf(bw, "        <MultiDescription number=\"4\">%s %s</MultiDescription>\n", nouns[k], size)
		}
		fmt.Fprint(bw, "      </MultiDescriptions>\n")
		fmt.Fprintf(bw, "      <Assortment number=\"%d\" code=\"%s\">\n        <Description>%ss</Description>\n      </Assortment>\n", 10+k, fmt.Sprintf("%-8s", "GRP"+fmt.Sprint(k)), nouns[k])
		fmt.Fprint(bw, "      <Availability>\n        <DateStart>2020-01-01</DateStart>\n        <DateEnd>2299-12-31T00:00:00</DateEnd>\n      </Availability>\n")
		cond := "A"
		if rng.Intn(20) == 0 {
			cond = "B"
		}
		fmt.Fprintf(bw, "      <Condition>%s</Condition>\n      <IsSalesItem>%d</IsSalesItem>\n      <IsPurchaseItem>1</IsPurchaseItem>\n      <IsStockItem>1</IsStockItem>\n      <IsFractionAllowedItem>0</IsFractionAllowedItem>\n      <IsTextItem>false</IsTextItem>\n", cond, 1-rng.Intn(10)/9)
		fmt.Fprintf(bw, "      <Sales>\n        <Price type=\"S\">\n          <Currency code=\"EUR\"/>\n          <Value>%d.%02d</Value>\n          <VAT code=\"2\"/>\n        </Price>\n        <Unit unit=\"%s\">\n          <Description>Pieces</Description>\n        </Unit>\n      </Sales>\n", rng.Intn(500), rng.Intn(100), units[rng.Intn(len(units))])
		fmt.Fprintf(bw, "      <Costs>\n        <Price>\n          <Currency code=\"EUR\"/>\n          <Value>%d.%03d</Value>\n        </Price>\n      </Costs>\n", rng.Intn(300), rng.Intn(1000))
		if rng.Intn(50) == 0 {
			fmt.Fprintf(bw, "      <Image ID=\"%d\">\n        <Name>%s.jpg</Name>\n        <BinaryData>%s</BinaryData>\n      </Image>\n", i, code[4:], imgB64)
		}
		fmt.Fprintf(bw, "      <FreeFields>\n        <FreeTexts>\n          <FreeText number=\"1\" label=\"Brand\">%s</FreeText>\n          <FreeText number=\"2\">%s</FreeText>\n        </FreeTexts>\n", escape(brands[rng.Intn(len(brands))]), f)
		fmt.Fprintf(bw, "        <FreeNumbers>\n          <FreeNumber number=\"1\">%d</FreeNumber>\n        </FreeNumbers>\n        <FreeYesNos>\n          <FreeYesNo number=\"1\" label=\"Webshop\">%d</FreeYesNo>\n        </FreeYesNos>\n      </FreeFields>\n", 25*(1+rng.Intn(8)), rng.Intn(2))
		fmt.Fprintf(bw, "      <ItemWarehouses>\n        <ItemWarehouse default=\"1\">\n          <Warehouse code=\"1\"/>\n          <Stock>\n            <Min>%d</Min>\n            <Max>%d</Max>\n          </Stock>\n        </ItemWarehouse>\n      </ItemWarehouses>\n", rng.Intn(100), 1000+rng.Intn(1000))
		if rng.Intn(10) != 0 {
			fmt.Fprintf(bw, "      <GTIN>87%011d</GTIN>\n", rng.Int63n(1e11))
		}
		fmt.Fprint(bw, "    </Item>\n")
	}
	fmt.Fprint(bw, "  </Items>\n</eExact>\n")
	return bw.Flush()
}

func escape(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '&' {
			out = append(out, "&amp;"...)
		} else {
			out = append(out, s[i])
		}
	}
	return string(out)
}

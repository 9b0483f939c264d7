#!/usr/bin/env python3
"""Peer of the items benchmark: Globe Items export -> catalogue feed with
lxml.iterparse, clearing each Item as it goes (constant memory).

Usage: catalogue_lxml.py items.xml OUTDIR [ADMIN]

Writes OUTDIR/catalogue.jsonl and OUTDIR/catalogue.csv with the mapping of
bench/items/gofeed: sales items only; description slots 1..4 -> nl, de, fr,
en; FreeText 1 -> attributes.brand, FreeYesNo 1 -> attributes.webshop;
Condition A/B/D/E/F -> active/blocked/discontinued/inactive/future. JSON is
written the way Go's encoding/json writes the same record (key order, HTML
escaping), so that the outputs can be compared byte for byte.
"""
import json
import os
import sys

from lxml import etree

LANGS = {"1": "nl", "2": "de", "3": "fr", "4": "en"}
LANG_COLS = sorted(LANGS.values())
ATTR_COLS = ["brand", "webshop"]
STATUS = {"A": "active", "B": "blocked", "D": "discontinued", "E": "inactive", "F": "future", "": "active"}
FLAGS = {"1": "1", "true": "1", "0": "0", "false": "0"}


def text(el):
    return (el.text or "").strip() if el is not None else ""


def go_json(obj):
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def csv_field(s):
    if s and (s[0] in " \t" or s[-1] in " \t" or any(c in s for c in ';"\n\r')):
        return '"' + s.replace('"', '""') + '"'
    return s


def main():
    src, out = sys.argv[1], sys.argv[2]
    admin = sys.argv[3] if len(sys.argv) > 3 else "500"
    n = 0
    with open(os.path.join(out, "catalogue.jsonl"), "w", encoding="utf-8", newline="") as jf, \
            open(os.path.join(out, "catalogue.csv"), "w", encoding="utf-8", newline="") as cf:
        cf.write(";".join(["administration", "item_code", "description"] + ["descriptions." + l for l in LANG_COLS] +
                          ["long_description", "group_code", "group_description", "unit", "sales_price", "currency",
                           "vat_code", "gtin", "status"] + ["attributes." + a for a in ATTR_COLS] + ["updated_at"]) + "\n")
        for _, item in etree.iterparse(src, events=("end",), tag="Item"):
            if item.getparent() is None or item.getparent().tag != "Items":
                continue
            if FLAGS.get(text(item.find("IsSalesItem")).lower()) == "1":
                n += 1
                write(item, admin, jf, cf)
            item.clear()
            while item.getprevious() is not None:
                del item.getparent()[0]
    print("lxml: %d catalogue records" % n)


def write(item, admin, jf, cf):
    descs = {}
    for md in item.iterfind("MultiDescriptions/MultiDescription"):
        lang = LANGS.get((md.get("number") or "").strip())
        t = text(md)
        if lang and t:
            descs[lang] = t
    asst = item.find("Assortment")
    group_code = group_desc = ""
    if asst is not None:
        group_code = (asst.get("code") or asst.get("Code") or "").strip() or (asst.get("number") or "").strip()
        group_desc = text(asst.find("Description"))
    unit = item.find("Sales/Unit")
    unit = ((unit.get("unit") or unit.get("code") or "").strip()) if unit is not None else ""
    cur = item.find("Sales/Price/Currency")
    vat = item.find("Sales/Price/VAT")
    attrs = {}
    for ft in item.iterfind("FreeFields/FreeTexts/FreeText"):
        if (ft.get("number") or "").strip() == "1":
            if text(ft):
                attrs["brand"] = text(ft)
            break
    for fy in item.iterfind("FreeFields/FreeYesNos/FreeYesNo"):
        if (fy.get("number") or "").strip() == "1":
            v = FLAGS.get(text(fy).lower(), "")
            if v:
                attrs["webshop"] = v
            break
    cond = text(item.find("Condition"))
    rec = {
        "administration": admin,
        "item_code": (item.get("code") or "").strip(),
        "description": text(item.find("Description")),
    }
    if descs:
        rec["descriptions"] = dict(sorted(descs.items()))
    opt = [
        ("long_description", text(item.find("LongDescription"))),
        ("group_code", group_code),
        ("group_description", group_desc),
        ("unit", unit),
        ("sales_price", text(item.find("Sales/Price/Value"))),
        ("currency", (cur.get("code") or "").strip() if cur is not None else ""),
        ("vat_code", (vat.get("code") or "").strip() if vat is not None else ""),
        ("gtin", text(item.find("GTIN"))),
    ]
    for k, v in opt:
        if v:
            rec[k] = v
    rec["status"] = STATUS.get(cond, "inactive")
    if attrs:
        rec["attributes"] = dict(sorted(attrs.items()))
    updated = text(item.find("Modified"))
    if updated:
        rec["updated_at"] = updated
    jf.write(go_json(rec) + "\n")
    row = [admin, rec["item_code"], rec["description"]] + [descs.get(l, "") for l in LANG_COLS]
    row += [v for _, v in opt] + [rec["status"]] + [attrs.get(a, "") for a in ATTR_COLS] + [updated]
    cf.write(";".join(csv_field(c) for c in row) + "\n")


if __name__ == "__main__":
    main()

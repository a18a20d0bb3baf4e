package carddav

import (
	"encoding/xml"
	"testing"
)

// BenchmarkConvert3to4 converts Apple's card (photo, groups, labels) to 4.0.
func BenchmarkConvert3to4(b *testing.B) {
	body := readTestdata(b)["apple-zoe-3.0.vcf"]
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Convert(body, Version4); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConvert4to3 converts the DAVx5 card to 3.0.
func BenchmarkConvert4to3(b *testing.B) {
	body := readTestdata(b)["davx5-taro-4.0.vcf"]
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Convert(body, Version3); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseCard is the PUT path: validation, Card and search text.
func BenchmarkParseCard(b *testing.B) {
	body := readTestdata(b)["apple-zoe-3.0.vcf"]
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCard(body, "text/vcard"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFilterMatch runs the RFC 6352 §8.6.4 filter (FN or EMAIL
// contains "daboo") over one card; ns/op is the cost per candidate.
func BenchmarkFilterMatch(b *testing.B) {
	var q testQuery
	if err := xml.Unmarshal([]byte(rfcQueryDaboo), &q); err != nil {
		b.Fatal(err)
	}
	card := mustParse(b, string(readTestdata(b)["apple-zoe-3.0.vcf"])).Card
	b.ReportAllocs()
	for b.Loop() {
		if q.Filter.Match(card) {
			b.Fatal("matched")
		}
	}
}

// BenchmarkFilterMatchUnicode is a non-ASCII term with a param-filter.
func BenchmarkFilterMatchUnicode(b *testing.B) {
	f := Filter{Test: TestAllOf, PropFilters: []PropFilter{
		{Name: "FN", TextMatches: []TextMatch{{Value: "ÇELİK"}}},
		{Name: "EMAIL", ParamFilters: []ParamFilter{{Name: "TYPE", TextMatch: &TextMatch{MatchType: "equals", Value: "work"}}}},
	}}
	card := mustParse(b, string(readTestdata(b)["apple-zoe-3.0.vcf"])).Card
	b.ReportAllocs()
	for b.Loop() {
		f.Match(card)
	}
}

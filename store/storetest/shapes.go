package storetest

import (
	"time"

	"github.com/davenport-dav/davenport/store"
)

// ListingShape is one shape of ListObjects options that a request path
// uses, for the query-plan tests each backend runs on its own SQL.
type ListingShape struct {
	Name string
	Opts store.ListObjectsOptions
}

// ListingShapes are the shapes of PROPFIND Depth 1 (whole and paged),
// calendar-query (component and time range) and addressbook-query (text),
// with or without bodies.
func ListingShapes(withBody bool) []ListingShape {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(7 * 24 * time.Hour)
	shapes := []ListingShape{
		{"list", store.ListObjectsOptions{}},
		{"list page", store.ListObjectsOptions{After: "a.ics", Limit: 500}},
		{"list time range", store.ListObjectsOptions{Component: "VEVENT", Start: &start, End: &end}},
		{"list text", store.ListObjectsOptions{SearchText: []string{"x"}}},
	}
	for i := range shapes {
		shapes[i].Opts.WithBody = withBody
	}
	return shapes
}

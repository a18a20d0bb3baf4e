package store

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// CanonicalUsername is the form a user name is stored, compared and written
// in: lower case and Unicode NFC. Names are case-insensitive (a phone that
// capitalises "alice" as "Alice" still logs in) and canonically equivalent
// spellings are one name ("zoë" typed precomposed or with a combining
// diaeresis). Lower-casing uses Unicode's simple case mapping
// (strings.ToLower), not full case folding, so the stored name stays
// readable ("straße" keeps its ß).
//
// The input is composed first so that a name and its decomposed twin lower
// to the same string ("İ" and "I"+U+0307), and the result is composed again
// since lower-casing may leave a composable sequence. An already canonical
// name is returned without allocating.
func CanonicalUsername(name string) string {
	return norm.NFC.String(strings.ToLower(norm.NFC.String(name)))
}

// CanonicalRenames plans the move of existing user names to their canonical
// form (the schema migration that makes names case-insensitive). names maps
// user ids to stored names; the result maps the id of each user whose name
// changes to its new name. Two or more users whose names become the same
// are refused with a *UsernameTwinsError, and nothing is to be renamed.
func CanonicalRenames(names map[int64]string) (map[int64]string, error) {
	groups := map[string][]int64{}
	for id, n := range names {
		c := CanonicalUsername(n)
		groups[c] = append(groups[c], id)
	}
	var twins UsernameTwinsError
	renames := map[int64]string{}
	for c, ids := range groups {
		if len(ids) > 1 {
			slices.Sort(ids)
			var g []string
			for _, id := range ids {
				g = append(g, fmt.Sprintf("%+q (id %d)", names[id], id))
			}
			twins.Groups = append(twins.Groups, g)
			continue
		}
		if names[ids[0]] != c {
			renames[ids[0]] = c
		}
	}
	if len(twins.Groups) > 0 {
		slices.SortFunc(twins.Groups, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
		return nil, &twins
	}
	return renames, nil
}

// UsernameTwinsError reports user names that differ only in case or
// Unicode form, which this version cannot keep apart.
type UsernameTwinsError struct {
	Groups [][]string // each: `"Alice" (id 3)`, `"alice" (id 7)`
}

func (e *UsernameTwinsError) Error() string {
	var b strings.Builder
	b.WriteString("user names are case-insensitive from this version on, and these users' names differ only in case or Unicode form: ")
	for i, g := range e.Groups {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(strings.Join(g, ", "))
	}
	b.WriteString(". Nothing was changed. Rename all but one of each group " +
		"(UPDATE users SET username = 'new-name' WHERE id = …) or delete them with the previous version " +
		"(davenport user delete NAME), then start again")
	return b.String()
}

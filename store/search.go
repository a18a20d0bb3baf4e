package store

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Principal search. Clients look principals up by a few letters of a name
// or an address (RFC 3744 §9.4 principal-property-search, CalendarServer's
// calendarserver-principal-search): a case-insensitive substring match. A
// substring test cannot use a B-tree index (and pg_trgm is not available
// everywhere), so each principal is indexed under search terms instead:
// every suffix of every word of its texts. A text contains a word w exactly
// when one of those suffixes starts with w, and "starts with" is a range
// of a B-tree index. SearchPrincipals reads that range in index order and
// stops after a bounded number of terms: the work grows with the answer,
// not with the number of principals. The caller then checks the exact
// substring match on the few candidates.
//
// Every write of a user's name, display name or email address, or of a
// group's name or display name, rewrites the principal's terms in the same
// transaction (both backends build them with SearchTerms).

// SearchField says which texts of a principal a search term comes from.
type SearchField int

const (
	// SearchName: a user's user name and display name; a group's name and
	// display name.
	SearchName SearchField = 1 << iota
	// SearchEmail: a user's email address (and user name, which is part
	// of their principal URL, a calendar user address).
	SearchEmail
)

// Term is one search term of a principal.
type Term struct {
	Term  string
	Field SearchField
}

// Bounds of the terms of one principal: a word longer than maxWordRunes
// is indexed by its first maxWordRunes runes, a term is at most
// maxTermRunes runes (a longer query word is looked up by its first
// maxTermRunes runes, and checked exactly after), and a principal has at
// most maxTerms terms.
const (
	maxWordRunes = 64
	maxTermRunes = 32
	maxTerms     = 1024
)

// FoldSearch is the case folding of principal search: Unicode NFC, then
// lower case (the same on every backend, as it runs in Go).
func FoldSearch(s string) string {
	return strings.ToLower(norm.NFC.String(s))
}

// SearchWords splits a search text into the folded words (maximal runs of
// letters and digits) it is looked up by.
func SearchWords(s string) []string {
	return strings.FieldsFunc(FoldSearch(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// SearchPrefix is the index key a search word is looked up by: folded,
// and cut to its first maxTermRunes runes.
func SearchPrefix(word string) string {
	return truncateRunes(FoldSearch(word), maxTermRunes)
}

// UserTerms are the search terms of a user.
func UserTerms(u *User) []Term {
	return searchTerms([]string{u.Username, u.DisplayName}, []string{u.Username, u.Email})
}

// GroupTerms are the search terms of a group. Its name is part of its
// principal URL, its calendar user address.
func GroupTerms(g *Group) []Term {
	return searchTerms([]string{g.Name, g.DisplayName}, []string{g.Name})
}

// searchTerms are the distinct suffixes of the words of the name and
// address texts, each marked with its field.
func searchTerms(names, addresses []string) []Term {
	seen := map[Term]bool{}
	var out []Term
	add := func(texts []string, f SearchField) {
		for _, text := range texts {
			for _, w := range SearchWords(text) {
				w = truncateRunes(w, maxWordRunes)
				for i := range w { // each rune's start: every suffix
					t := Term{Term: truncateRunes(w[i:], maxTermRunes), Field: f}
					if !seen[t] && len(out) < maxTerms {
						seen[t] = true
						out = append(out, t)
					}
				}
			}
		}
	}
	add(names, SearchName)
	add(addresses, SearchEmail)
	return out
}

func truncateRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// PrefixEnd is the least string above every string that starts with
// prefix, for a range scan: prefix followed by the greatest code point,
// under bytewise (COLLATE "C", BINARY) comparison.
func PrefixEnd(prefix string) string {
	return prefix + string(utf8.MaxRune)
}

// Principal is a user or a group, as SearchPrincipals finds them: exactly
// one of the two is set.
type Principal struct {
	User  *User
	Group *Group
}

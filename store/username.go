package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// ErrInvalidUsername is returned, wrapped with the reason, for a user name
// outside the set ValidateUsername allows.
var ErrInvalidUsername = errors.New("store: invalid user name")

// MaxUsernameLen is the longest user name, in characters.
const MaxUsernameLen = 64

// ValidateUsername reports whether name, as typed, may name a new user. It
// is the one rule for every path that creates users (the CLI, the store's
// CreateUser, the web UI). Names are case-insensitive and compared in NFC
// (CanonicalUsername), and they appear as one path segment of every URL
// (/dav/calendars/{user}/) and as the user-id of Basic credentials, so a
// name must be:
//   - valid UTF-8, 1 to MaxUsernameLen characters once canonical;
//   - free of '/' (a path separator), ':' (RFC 7617 §2: "a user-id
//     containing a colon character is invalid"), white space, control and
//     format characters (bidirectional overrides and zero-width characters
//     make two different names look alike);
//   - not "." or "..", which mean a path, not a segment (RFC 3986 §5.2.4);
//   - one name in every case: each letter must be the lower case of its own
//     upper case, so final sigma ς (σ), dotless ı (i), long ſ (s) and the
//     micro sign µ (μ) are refused, as they would be a second name that
//     upper-cases like an existing one.
//
// Any other Unicode letter, digit, symbol or punctuation is allowed, and a
// name in another case or a decomposed form is accepted and stored in its
// canonical form, which must be unique (CreateUser answers ErrConflict).
func ValidateUsername(name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: not UTF-8", ErrInvalidUsername)
	}
	c := CanonicalUsername(name)
	if n := utf8.RuneCountInString(c); n == 0 || n > MaxUsernameLen {
		return fmt.Errorf("%w: %+q: must be 1 to %d characters", ErrInvalidUsername, name, MaxUsernameLen)
	}
	if c == "." || c == ".." {
		return fmt.Errorf("%w: %+q: may not be \".\" or \"..\"", ErrInvalidUsername, name)
	}
	for _, r := range c {
		switch {
		case r == '/' || r == ':' || unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return fmt.Errorf("%w: %+q: may not contain '/', ':', spaces, control or format characters", ErrInvalidUsername, name)
		case unicode.ToLower(unicode.ToUpper(r)) != r:
			return fmt.Errorf("%w: %+q: %q is another case of %q; use that", ErrInvalidUsername, name, r, unicode.ToLower(unicode.ToUpper(r)))
		}
	}
	return nil
}

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

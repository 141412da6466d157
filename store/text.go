package store

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The rules for the text a person types into a token: what a name and a
// description may hold, and the form they are stored in.

// validateText checks a token's name and description. It returns the name
// without surrounding white space or invisible characters, and the
// description with its line breaks as "\n": a form sends "\r\n".
func validateText(v *ValidationError, name, description string) (string, string) {
	name = strings.TrimFunc(name, invisible)
	switch {
	case !utf8.ValidString(name):
		v.add("name", "Name contains characters that are not allowed.")
	case strings.ContainsFunc(name, refusedInName):
		v.add("name", "Name contains "+firstOf(name, refusedInName)+", which is not allowed.")
	case name == "":
		v.add("name", MsgNameRequired)
	case utf8.RuneCountInString(name) > MaxTokenName:
		v.add("name", MsgNameTooLong)
	}
	description = lineBreaks.Replace(description)
	switch {
	case !utf8.ValidString(description):
		v.add("description", "Description contains characters that are not allowed.")
	case strings.ContainsFunc(description, reorders):
		v.add("description", "Description contains "+firstOf(description, reorders)+", which is not allowed.")
	case strings.ContainsFunc(description, refusedInDescription):
		v.add("description", "Description contains "+firstOf(description, refusedInDescription)+
			", which is not allowed; line breaks and tabs are.")
	case utf8.RuneCountInString(description) > MaxTokenDescription:
		v.add("description", MsgDescriptionTooLong)
	}
	return name, description
}

// lineBreaks makes every line break "\n": browsers send a textarea's as
// "\r\n", and a lone "\r" is one too.
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// invisible is white space and format characters (zero-width space and
// the like): a name made only of them would look empty.
func invisible(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) }

// refusedInName is a control character (C0, DEL, C1) or any of the
// characters that steer the direction of text, marks included: in a name,
// which is short and must be told apart from others at a glance, none has a
// use, and each can make two names look alike or one look like another.
func refusedInName(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }

// refusedInDescription is a control character other than a line break or
// a tab, which would reach a terminal or a log raw (an ESC starts a colour
// or a cursor move).
func refusedInDescription(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }

// reorders reports the embedding, override and isolate controls that can
// make text display in another order than it is stored ("Trojan Source").
// A description may keep the marks (U+200E, U+200F, U+061C), which
// right-to-left prose needs and which reorder nothing around them.
func reorders(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// firstOf names, for a message, the first character of s that refused
// reports.
func firstOf(s string, refused func(rune) bool) string {
	r, _ := utf8.DecodeRuneInString(s[strings.IndexFunc(s, refused):])
	what := "an invisible control character"
	if unicode.Is(unicode.Bidi_Control, r) {
		what = "a character that changes the direction of text"
	}
	return fmt.Sprintf("%s (U+%04X)", what, r)
}

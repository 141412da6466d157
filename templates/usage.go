package templates

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"apitokens/store"
)

// UsageNote is what the disable and delete confirmations say a token, or a
// selection of tokens, has been doing: the risk of the change, in words.
type UsageNote struct {
	Text string
	// InUse is set when something called lately, or was refused lately:
	// the change will break it, or it still tries.
	InUse bool
}

// agentInNote bounds a client's name in the note: enough to tell
// "python-httpx/0.28" from "curl/8.5.0", not a paragraph.
const agentInNote = 60

// NoteUsage words the usage of tokens (one when tokens is 1) for the
// confirmation of a change that stops them working.
func NoteUsage(sum store.UsageSummary, now time.Time, tokens int) UsageNote {
	it, them := "it", "it"
	if tokens != 1 {
		it, them = "any of them", "them"
	}
	var b strings.Builder
	var inUse bool
	switch {
	case sum.Calls7d > 0:
		inUse = true
		b.WriteString("Used " + Times(sum.Calls7d) + " in the last 7 days")
		if !sum.Last.At.IsZero() {
			b.WriteString(", last " + Ago(now, sum.Last.At) + callerFrom(sum.Last))
		}
		b.WriteString(". Applications using " + them + " will stop working.")
	case sum.Last.At.IsZero():
		if tokens == 1 {
			b.WriteString("Never used.")
		} else {
			b.WriteString("None of them has ever been used.")
		}
	case now.Sub(sum.Last.At) < 7*24*time.Hour:
		// Called lately, but not counted: calls made before this version
		// counted them.
		inUse = true
		b.WriteString("Used in the last 7 days, last " + Ago(now, sum.Last.At) + callerFrom(sum.Last) +
			". Applications using " + them + " will stop working.")
	case now.Sub(sum.Last.At) >= store.UsageKeptDays*24*time.Hour:
		b.WriteString("Not used in the last 90 days.")
	default:
		b.WriteString("Not used in the last 7 days; last used " + Ago(now, sum.Last.At) + callerFrom(sum.Last) + ".")
	}
	if sum.Refused7d > 0 {
		inUse = true
		if sum.Refused7d == 1 {
			b.WriteString(" 1 call was refused")
		} else {
			b.WriteString(" " + Count(sum.Refused7d) + " calls were refused")
		}
		b.WriteString(" in the last 7 days: something still tries to use " + it + ".")
	}
	return UsageNote{Text: b.String(), InUse: inUse}
}

// callerFrom is " from 203.0.113.7 (python-httpx/0.28)", as much of it as
// is known.
func callerFrom(c store.Caller) string {
	var s string
	if c.Address != "" {
		s = " from " + c.Address
	}
	if ua := c.UserAgent; ua != "" {
		if utf8.RuneCountInString(ua) > agentInNote {
			ua = string([]rune(ua)[:agentInNote-1]) + "…"
		}
		s += " (" + ua + ")"
	}
	return s
}

// Times is "once", "twice" or "1,284 times".
func Times(n int64) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return Count(n) + " times"
}

// Count writes n with its thousands grouped: "1,284".
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + Count(-n)
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Ago is how long before now t was, in the largest whole unit: "just now",
// "5 minutes ago", "3 hours ago", "12 days ago".
func Ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	}
	return plural(int(d/(24*time.Hour)), "day") + " ago"
}

// The usage chart's drawing: 30 bars in a box of chartWidth by
// chartHeight, in the SVG's own units.
const (
	chartWidth  = 900
	chartHeight = 140
	chartSlot   = chartWidth / store.UsageDays
	chartBar    = chartSlot - 6
)

// usageBar is one day of the usage chart: its calls and, stacked on them,
// its refused calls, each as a height and the y where it starts.
type usageBar struct {
	Day                store.UsageDay
	X                  int
	CallsY, CallsH     int
	RefusedY, RefusedH int
	Label, Date        string
	// Tick is the day's date under the axis, for the first, middle and
	// last days; Anchor keeps the first and last inside the drawing.
	Tick, Anchor string
	TickX        int
}

// usageDrawing is the usage chart: a bar a day, to the scale of the
// busiest day, whose calls are the chart's top.
type usageDrawing struct {
	Bars []usageBar
	Peak int64
}

// drawUsage draws the days of u.
func drawUsage(u store.Usage) usageDrawing {
	var peak int64
	for _, d := range u.Days {
		peak = max(peak, d.Calls+d.Refused)
	}
	scale := func(n int64) int {
		if peak == 0 || n == 0 {
			return 0
		}
		// A day with any call shows at least a sliver.
		return max(1, int(n*chartHeight/peak))
	}
	bars := make([]usageBar, len(u.Days))
	for i, d := range u.Days {
		b := usageBar{Day: d, X: i*chartSlot + (chartSlot-chartBar)/2, Date: d.Date.Format(time.DateOnly)}
		b.CallsH, b.RefusedH = scale(d.Calls), scale(d.Refused)
		b.CallsY = chartHeight - b.CallsH
		b.RefusedY = b.CallsY - b.RefusedH
		b.Label = d.Date.Format("Mon 2 Jan") + ": " + callsWord(d.Calls)
		if d.Refused > 0 {
			b.Label += ", " + Count(d.Refused) + " refused"
		}
		last := len(u.Days) - 1
		switch i {
		case 0:
			b.Anchor, b.TickX = "start", b.X
		case last / 2:
			b.Anchor, b.TickX = "middle", b.X+chartBar/2
		case last:
			b.Anchor, b.TickX = "end", b.X+chartBar
		}
		if b.Anchor != "" {
			b.Tick = d.Date.Format("2 Jan")
		}
		bars[i] = b
	}
	return usageDrawing{Bars: bars, Peak: peak}
}

// callsWord is "1 call" or "1,284 calls".
func callsWord(n int64) string {
	if n == 1 {
		return "1 call"
	}
	return Count(n) + " calls"
}

// usageTotal is one of the Usage tab's totals.
type usageTotal struct {
	Label, Key string // Key names it for tests, as the API does
	N          int64
}

// usageTotals are the Usage tab's totals, in the order shown.
func usageTotals(u store.Usage) []usageTotal {
	return []usageTotal{
		{"Calls, last 24 hours", "calls24h", u.Calls24h},
		{"Calls, last 7 days", "calls7d", u.Calls7d},
		{"Calls, last 30 days", "calls30d", u.Calls30d},
		{"Refused calls, last 30 days", "refused30d", u.Refused30d},
	}
}

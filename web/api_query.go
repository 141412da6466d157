package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"apitokens/store"
)

// The list's query string is the platform's: limit, offset, order and
// select as parameters, and the filter as RQL written straight into it,
// each expression a part of its own with no value ("?eq(status,Active)"),
// or a part name=value for eq(name,value). Parts are read as written: only
// percent-escapes are decoded, and a '+' stays a '+' (RQL writes
// select=+audit and times such as 2026-01-31T23:00:00+01:00 with one).

// listQuery is what a list request asks for.
type listQuery struct {
	filter    store.TokenFilter
	sel       selection
	countOnly bool // limit=0: the total alone, as the platform gives it
}

// parseListQuery reads the list's query string. Whatever cannot be used is
// a 400 that names it, never a quiet default: a client may act on every
// token a filter returns.
func parseListQuery(rawQuery string) (listQuery, error) {
	q := listQuery{filter: store.TokenFilter{Limit: store.DefaultPageSize}}
	params, filters, err := splitQuery(rawQuery)
	if err != nil {
		return q, err
	}
	var errs fieldErrors
	if v, ok := params["offset"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs.add("offset", "offset must be a whole number, 0 or more.")
		}
		q.filter.Offset = n
	}
	if v, ok := params["limit"]; ok {
		// As on the platform: 0 asks for the total alone, and a limit over
		// the most a page holds gets that most, which the answer's
		// $meta.pagination.limit says.
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs.add("limit", fmt.Sprintf("limit must be a whole number: 1 to %d, or 0 for the total alone.", store.MaxPageSize))
		}
		q.countOnly = n == 0
		q.filter.Limit = min(max(n, 1), store.MaxPageSize)
	}
	if len(errs) > 0 {
		p := problemInvalidParameters.with("Some query parameters are not valid; see errors.")
		p.Errors = errs
		return q, p
	}
	if v, ok := params["order"]; ok {
		if err := q.filter.ApplyRQLOrder(v); err != nil {
			return q, err
		}
	}
	if q.sel, err = parseSelect(params["select"]); err != nil {
		return q, err
	}
	return q, q.filter.ApplyRQL(filters)
}

// listParams are the parameters of the list; every other part of its
// query string is a filter.
var listParams = []string{"limit", "offset", "order", "select"}

// splitQuery splits a raw query string into its parameters, by name, and
// its filters, percent-decoded.
func splitQuery(rawQuery string) (map[string]string, []string, error) {
	params := map[string]string{}
	var filters []string
	for part := range strings.SplitSeq(rawQuery, "&") {
		decoded, err := url.PathUnescape(part)
		if err != nil {
			return nil, nil, problemBadQuery.with(fmt.Sprintf("The query string part %q has a malformed percent-escape.", part))
		}
		name, value, isParam := strings.Cut(decoded, "=")
		switch {
		case decoded == "" || decoded == "render()":
			// render() asks the platform to fill in templates, which
			// tokens do not have: there is nothing to render.
		case isParam && slices.Contains(listParams, name):
			if _, twice := params[name]; twice {
				return nil, nil, problemBadQuery.with(fmt.Sprintf("The query parameter %s is given more than once.", name))
			}
			params[name] = value
		default:
			filters = append(filters, decoded)
		}
	}
	return params, filters, nil
}

// selectParam reads the select parameter of a single token's query string.
func selectParam(c echo.Context) (selection, error) {
	params, _, err := splitQuery(c.Request().URL.RawQuery)
	if err != nil {
		return selection{}, err
	}
	return parseSelect(params["select"])
}

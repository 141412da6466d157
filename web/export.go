package web

import (
	"encoding/csv"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"apitokens/store"
	"apitokens/templates"
)

// handleTokensExport answers the list, as the same filters and sort select
// it, as CSV: every token, written as it is read, in the order the list had
// when the export began. Bad filters get the list's 400 and its messages;
// an error once the download has begun breaks it off, so that a
// spreadsheet never takes part of the list for the whole of it.
func (s *Server) handleTokensExport(c echo.Context) error {
	u, _ := currentUser(c)
	f, _, err := listFilter(c.QueryParams())
	if err != nil {
		return err
	}
	now := s.now()
	var w *csv.Writer
	begin := func() {
		w = startCSV(c, "api-tokens-"+now.UTC().Format("2006-01-02")+".csv")
		w.Write([]string{"ID", "Name", "Description", "Status", "Modules", "Created by", "Created by ID",
			"Date created", "Last access", "Calls (7 days)", "Expires"})
	}
	err = s.store.ExportTokens(c.Request().Context(), u.AccountID, f, func(t store.Token) error {
		if w == nil {
			begin()
		}
		mods := make([]string, len(t.Modules))
		for i, m := range t.Modules {
			mods[i] = m.Name
		}
		w.Write(csvRow(t.ID, t.Name, t.Description, string(t.State(now)), strings.Join(mods, "; "),
			t.CreatedBy.Name, t.CreatedBy.ID, csvTime(t.CreatedAt), csvTime(t.LastAccessAt),
			strconv.FormatInt(t.Calls7d, 10), csvTime(t.ExpiresAt)))
		// A client gone away: nothing more to write.
		return w.Error()
	})
	switch {
	case err != nil && w == nil:
		return err
	case err != nil && w.Error() == nil:
		s.log.Error("export of the token list broken off", slog.Any("err", err))
		panic(http.ErrAbortHandler)
	case w == nil:
		begin() // no token matches: the header row alone
	}
	w.Flush()
	return nil
}

// handleTokenAuditExport answers a token's audit trail as CSV, newest
// first, as its Audit trail tab lists it.
func (s *Server) handleTokenAuditExport(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	t, err := s.store.TokenByID(ctx, u.AccountID, c.Param("id"))
	if err != nil {
		return err
	}
	trail, err := s.store.AuditTrail(ctx, u.AccountID, store.AuditFilter{TokenID: t.ID})
	if err != nil {
		return err
	}
	w := startCSV(c, t.ID+"-audit-trail.csv")
	w.Write([]string{"Record ID", "Date", "Actor", "Actor ID", "Address", "Browser", "Summary", "Details", "Reason"})
	for _, e := range trail.Events {
		w.Write(csvRow(strconv.FormatInt(e.ID, 10), csvTime(e.At), e.Actor.Name, e.Actor.ID, e.IP, e.UserAgent,
			templates.AuditSummary(e), templates.AuditDetails(e), e.Reason))
	}
	w.Flush()
	return nil
}

// startCSV sends the headers of a CSV download named file, and returns the
// writer of its body.
func startCSV(c echo.Context, file string) *csv.Writer {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+file+`"`)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	w.UseCRLF = true
	return w
}

// csvRow is a row of cells, each made safe for a spreadsheet (csvCell).
func csvRow(cells ...string) []string {
	for i, v := range cells {
		cells[i] = csvCell(v)
	}
	return cells
}

// csvCell keeps a spreadsheet from taking a cell for a formula: text that
// begins with =, +, -, @, a tab or a carriage return is prefixed with an
// apostrophe, which spreadsheets show as text and do not display.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// csvTime is a moment in a CSV cell: ISO 8601 in UTC, empty for none.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
